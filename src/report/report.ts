/**
 * `udq report` (library side): check the output folder, render the plots (SVG + PNG) and
 * write report.md and features.csv. Scoring is in collect.ts, content in build.ts.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExistsError } from '../errors';
import { featuresCsv, PLOTS, ReportData, reportMarkdown, reportSpecs } from './build';
import { canRenderText, renderSvg, svgToPng } from './render';
import { outlineSvgText } from './stroke-text';

/**
 * Refuse to write into an existing non-empty folder without `force` (ExistsError), or over
 * something that is not a folder. Run it before any expensive work.
 */
export function checkOutDir(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new ExistsError(`${out} exists and is not a folder`);
  if (readdirSync(out).length > 0 && !force) throw new ExistsError(`${out} is not empty; use --force to write the report into it`);
}

export interface WrittenReport {
  out: string;
  /** file names written, relative to `out` */
  files: string[];
  /** false when no system font was found (the PNGs' text is then drawn with a stroke font) */
  pngText: boolean;
}

/** Render and write everything; `data.pngText` is set from the font check. */
export async function writeReport(data: ReportData, out: string, opts: { pngScale?: number } = {}): Promise<WrittenReport> {
  mkdirSync(out, { recursive: true });
  data.pngText = await canRenderText();
  const specs = reportSpecs(data);
  const files: string[] = [];
  for (const name of PLOTS) {
    const spec = specs[name];
    if (!spec) {
      // a plot not drawn this time: do not leave an older report's version behind
      for (const ext of ['svg', 'png']) rmSync(join(out, `${name}.${ext}`), { force: true });
      continue;
    }
    const svg = await renderSvg(spec);
    writeFileSync(join(out, `${name}.svg`), svg);
    // without a system font, librsvg cannot draw text: draw it with a single-stroke font instead
    writeFileSync(join(out, `${name}.png`), await svgToPng(data.pngText ? svg : outlineSvgText(svg), opts.pngScale ?? 2));
    files.push(`${name}.svg`, `${name}.png`);
  }
  writeFileSync(join(out, 'features.csv'), featuresCsv(data));
  writeFileSync(join(out, 'report.md'), reportMarkdown(data, Object.keys(specs)));
  files.push('features.csv', 'report.md');
  return { out, files, pngText: data.pngText };
}
