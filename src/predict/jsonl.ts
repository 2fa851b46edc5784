/**
 * JSON Lines results (`udq predict --format jsonl`): one prediction per line as it is done;
 * `--resume` reads which pictures a file already holds, and `udq merge` joins the files of
 * several shards into one table.
 */
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import type { Prediction } from './predict';
import { UsageError } from '../errors';

/** One prediction as a JSON line (no pixels, no trailing newline). */
export function predictionLine(p: Prediction): string {
  const { pixels: _pixels, ...rest } = p;
  return JSON.stringify(rest);
}

export interface ParsedLines {
  predictions: Prediction[];
  /** bytes of complete lines: a run killed mid-write leaves a partial last line after them */
  completeBytes: number;
  /** the partial last line was dropped */
  partialTail: boolean;
}

/**
 * Parse a JSONL file's text. A last line without its newline that is not valid JSON is a write
 * cut short (dropped, reported by `partialTail`); any other line that does not parse, or a
 * record without a `file`, is an error naming the line.
 */
export function parseJsonl(text: string, name: string): ParsedLines {
  const predictions: Prediction[] = [];
  let pos = 0;
  let line = 0;
  let completeBytes = 0;
  let partialTail = false;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const raw = text.slice(pos, end);
    line++;
    if (raw.trim()) {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        // only a record udq began to write counts as cut short; anything else is not our file
        if (nl < 0 && raw.trimStart().startsWith('{"file":')) {
          partialTail = true;
          break;
        }
        throw new UsageError(`${name}:${line}: not a JSON line (not a file written by udq predict --format jsonl)`);
      }
      if (!value || typeof value !== 'object' || typeof (value as Prediction).file !== 'string') throw new UsageError(`${name}:${line}: not a udq prediction (no "file")`);
      predictions.push(value as Prediction);
    }
    completeBytes += Buffer.byteLength(raw, 'utf8') + (nl < 0 ? 0 : 1);
    pos = nl < 0 ? text.length : nl + 1;
  }
  return { predictions, completeBytes, partialTail };
}

/**
 * For `--resume FILE`: the pictures FILE already has (not counting unreadable ones), after cutting a partial last line off
 * the file (so appended lines start on a line of their own). A missing file holds none.
 */
export function prepareResume(path: string): { done: Set<string>; droppedPartial: boolean; needsNewline: boolean } {
  if (!existsSync(path)) return { done: new Set(), droppedPartial: false, needsNewline: false };
  const text = readFileSync(path, 'utf8');
  const parsed = parseJsonl(text, path);
  if (parsed.partialTail) truncateSync(path, parsed.completeBytes);
  const needsNewline = !parsed.partialTail && text.length > 0 && !text.endsWith('\n');
  // pictures that could not be read are tried again
  return { done: new Set(parsed.predictions.filter((p) => p.verdict !== 'error').map((p) => p.file)), droppedPartial: parsed.partialTail, needsNewline };
}

export interface MergedResults {
  /** one per picture, sorted by file path */
  predictions: Prediction[];
  /** pictures found in more than one line (the last line read wins, unless it is an error and an earlier one is not) */
  duplicates: number;
  /** files whose partial last line was dropped */
  partialFiles: string[];
}

/**
 * Join JSONL result files (shards, resumed runs) into one list, one row per picture, sorted by
 * path. A picture found twice keeps the last row read, except that an `error` row never
 * replaces one that read the picture.
 */
export function mergeJsonl(files: { name: string; text: string }[]): MergedResults {
  const byFile = new Map<string, Prediction>();
  let duplicates = 0;
  const partialFiles: string[] = [];
  for (const f of files) {
    const parsed = parseJsonl(f.text, f.name);
    if (parsed.partialTail) partialFiles.push(f.name);
    for (const p of parsed.predictions) {
      const seen = byFile.get(p.file);
      if (seen) duplicates++;
      // an unreadable picture's row never replaces a row that read it
      if (!seen || p.verdict !== 'error' || seen.verdict === 'error') byFile.set(p.file, p);
    }
  }
  const predictions = [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { predictions, duplicates, partialFiles };
}
