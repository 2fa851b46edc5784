/** Runner: MC-dropout summaries and sanity verdicts for a whole image set. */
import type { ImageSet } from '../data/idx';
import type { BnMode } from './mc-dropout';
import type { Predictor } from './predictor';
import { checkInput, SanityThresholds, SanityVerdict } from '../gate/sanity';
import type { ScoredSet } from '../gate/ood-report';

export interface ScoreSetOptions {
  samples: number;
  seed: number;
  bnMode?: BnMode;
  onProgress?: (done: number, total: number) => void;
}

export async function scoreImageSet(
  predictor: Predictor,
  images: ImageSet,
  labels: ArrayLike<number> | undefined,
  sanity: SanityThresholds,
  opts: ScoreSetOptions,
): Promise<ScoredSet & { verdicts: SanityVerdict[] }> {
  const size = images.rows * images.cols;
  const scale = images.pixels instanceof Uint8Array ? 1 / 255 : 1;
  const verdicts: SanityVerdict[] = [];
  for (let i = 0; i < images.count; i++) verdicts.push(checkInput(images.pixels.subarray(i * size, (i + 1) * size), sanity, scale));
  const { summaries } = await predictor.sample(images, { samples: opts.samples, seed: opts.seed, bnMode: opts.bnMode, onProgress: opts.onProgress });
  return { summaries, valid: verdicts.map((v) => v.valid), labels, verdicts };
}
