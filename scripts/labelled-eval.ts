/**
 * Real pictures with labels (issue #21): how many are accepted and read right, per kind and per
 * source, and why the others were refused. The folder holds the pictures and a `labels.csv`
 * with at least the columns file,label (and optionally repo, kind), as
 * `../shared/data/user-digits-dev/` does.
 *
 *   node --import tsx scripts/labelled-eval.ts --dir DIR [--model models/deep] [--samples N]
 *        [--save DIR] [--list] [--json OUT]
 *
 * --save writes the 28x28 image the model saw for every picture (refused ones too), --list prints
 * one line per picture (verdict, digit, reason and its detail).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { describePasses } from '../src/uq/sample-count';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { predictFiles, Prediction } from '../src/predict/predict';
import { saveMnistPng } from '../src/image/load';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    model: { type: 'string', default: 'models/deep' },
    samples: { type: 'string' },
    save: { type: 'string' },
    list: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

interface Row {
  file: string;
  label: number;
  repo: string;
  kind: string;
}

/** labels.csv: a header line, then comma-separated values (no quoted commas in these files). */
export function readLabels(csv: string): Row[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim());
  const head = lines[0].split(',');
  const col = (name: string) => head.indexOf(name);
  if (col('file') < 0 || col('label') < 0) throw new Error('labels.csv needs the columns file and label');
  return lines.slice(1).map((l) => {
    const v = l.split(',');
    return { file: v[col('file')], label: Number(v[col('label')]), repo: col('repo') >= 0 ? v[col('repo')] : '-', kind: col('kind') >= 0 ? v[col('kind')] : '-' };
  });
}

interface Tally {
  n: number;
  accepted: number;
  right: number;
  wrong: number;
  refused: number;
  uncertain: number;
  argmaxRight: number;
}

function tally(rows: Row[], preds: Prediction[]): Tally {
  const t: Tally = { n: rows.length, accepted: 0, right: 0, wrong: 0, refused: 0, uncertain: 0, argmaxRight: 0 };
  rows.forEach((r, i) => {
    const p = preds[i];
    if (p.digit === r.label) t.argmaxRight++;
    if (p.verdict === 'digit') {
      t.accepted++;
      if (p.digit === r.label) t.right++;
      else t.wrong++;
    } else if (p.reason === 'uncertain') t.uncertain++;
    else t.refused++;
  });
  return t;
}

const f3 = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  if (!args.dir) throw new Error('--dir DIR (a folder with labels.csv) is required');
  await initBackend();
  const rows = readLabels(readFileSync(join(args.dir, 'labels.csv'), 'utf8'));
  const model = await loadPredictor(args.model!);
  const gate = readGate(model.dir);
  const samples = Number(args.samples ?? gate?.samples ?? 100);
  const preds = await predictFiles(
    model,
    rows.map((r) => join(args.dir!, r.file)),
    { samples, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() },
  );
  console.log(`${args.model}, ${rows.length} pictures in ${basename(args.dir)}, ${describePasses(model, samples)}`);
  console.log('group\tn\taccepted+right\taccepted\taccepted-wrong\trefused(input)\tuncertain\targmax right');
  const groups: [string, Row[]][] = [['all', rows]];
  for (const key of ['kind', 'repo'] as const) {
    for (const v of [...new Set(rows.map((r) => r[key]))].sort()) groups.push([`${key}=${v}`, rows.filter((r) => r[key] === v)]);
  }
  const table: Record<string, Tally> = {};
  for (const [name, rs] of groups) {
    const t = tally(rs, rs.map((r) => preds[rows.indexOf(r)]));
    table[name] = t;
    console.log(`${name}\t${t.n}\t${f3(t.right / t.n)}\t${f3(t.accepted / t.n)}\t${t.wrong}\t${t.refused}\t${t.uncertain}\t${f3(t.argmaxRight / t.n)}`);
  }
  const reasons = new Map<string, number>();
  for (const p of preds) if (p.verdict !== 'digit') reasons.set(p.reason ?? p.verdict, (reasons.get(p.reason ?? p.verdict) ?? 0) + 1);
  console.log(`refusals: ${[...reasons.entries()].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  if (args.list) {
    rows.forEach((r, i) => {
      const p = preds[i];
      const mark = p.verdict === 'digit' && p.digit === r.label ? 'ok' : p.verdict === 'digit' ? 'WRONG' : 'refused';
      console.log(`${r.file}\t${r.kind}\tlabel ${r.label}\t${mark}\t${p.verdict}\tdigit ${p.digit}\tp ${p.probability?.toFixed(2)}\tgate ${p.gateProbability?.toFixed(2)}\t${p.reason ?? ''}\t${p.reasonDetail?.short ?? p.error ?? ''}`);
    });
  }
  if (args.save) {
    mkdirSync(args.save, { recursive: true });
    for (const p of preds) if (p.pixels) await saveMnistPng(p.pixels, join(args.save, `${basename(p.file, extname(p.file))}.28x28.png`));
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ model: args.model, samples, table }, null, 2));
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
