/**
 * Time and memory of the picture pipeline on big pictures (issue #9): a 48-megapixel phone
 * photo (8000 x 6000 JPEG) and a 12000 x 12000 PNG, each with one digit drawn on it.
 *
 *   node --import tsx scripts/bench-picture.ts
 *
 * Each picture is loaded in a fresh child process so its peak RSS is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

async function make(dir: string): Promise<string[]> {
  const svg = (w: number, h: number) =>
    Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#d8d4cc"/><path d="M ${w * 0.42} ${h * 0.3} L ${w * 0.58} ${h * 0.3} L ${w * 0.47} ${h * 0.7}" stroke="#222" stroke-width="${w * 0.012}" fill="none"/></svg>`);
  const jpg = join(dir, 'phone-48mp.jpg');
  await sharp(svg(8000, 6000), { limitInputPixels: false }).jpeg({ quality: 90 }).toFile(jpg);
  const png = join(dir, 'scan-12000.png');
  await sharp(svg(12000, 12000), { limitInputPixels: false }).png({ compressionLevel: 1 }).toFile(png);
  return [jpg, png];
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const { loadImageAsMnist } = await import('../src/image/load');
    const t0 = process.hrtime.bigint();
    const r = await loadImageAsMnist(process.argv[3]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const rss = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ ms, rssMb: rss, width: r.width, height: r.height, empty: r.empty }));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'udq-bench-pic-'));
  try {
    const files = await make(dir);
    console.log('picture\tsize\tfile MB\tload+preprocess ms\tpeak RSS MB (whole process)');
    for (const f of files) {
      const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', f], { encoding: 'utf8' }));
      console.log(`${f.split('/').pop()}\t${out.width}x${out.height}\t${(statSync(f).size / 1e6).toFixed(1)}\t${out.ms.toFixed(0)}\t${out.rssMb.toFixed(0)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
