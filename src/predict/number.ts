/**
 * `udq predict --number`: a number written with several digits, read left to right; every
 * digit gets its own verdict, and the number is accepted only when every digit is.
 */
import type { Predictor } from '../uq/predictor';
import { loadNumberAsMnist } from '../image/load';
import { bestCut } from '../image/number';
import { checkInput, checkPicture, ReasonDetail } from '../gate/sanity';
import { Prediction, PredictOptions, scorePredictions } from './predict';
import { gateForNumbers } from '../gate/gate-file';

export interface NumberPrediction {
  file: string;
  verdict: 'number' | 'rejected' | 'error';
  /** the digits read, left to right (rejected positions included), e.g. "1207" */
  number?: string;
  /** why the whole was rejected */
  reason?: string;
  /** a refusal of the whole picture: the check, its measured value and threshold */
  reasonDetail?: ReasonDetail;
  /** 1-based positions whose digit was rejected or is uncertain (probability below 0.9) */
  uncertainPositions?: number[];
  digits?: Prediction[];
  error?: string;
}

/** A digit read with a mean probability below this is reported as uncertain even when accepted. */
export const UNCERTAIN_PROBABILITY = 0.9;

/**
 * How likely the model is to accept a piece of a number as one digit, as log(1 - p(reject)):
 * p(reject) the gate's probability (1 - the digit's probability without a gate; 1 for a piece
 * the input check refused). A cut's score is the sum over its pieces. Pure.
 */
export function segmentScore(d: Pick<Prediction, 'verdict' | 'reason' | 'gateProbability' | 'probability'>): number {
  const refused = d.verdict !== 'digit' && d.reason !== 'uncertain';
  const pReject = refused ? 1 : d.gateProbability ?? 1 - (d.probability ?? 0);
  return Math.log(Math.max(1e-6, 1 - pReject));
}

/** Another cut of a group replaces the one by width alone only when its score is higher by more than this (log units). */
export const CUT_MARGIN = 0.2;

/**
 * Read each picture as a number. The gate judges each digit with its number threshold
 * ({@link gateForNumbers}): the user has said the picture holds digits.
 */
export async function predictNumbers(model: Predictor, files: string[], options: PredictOptions): Promise<NumberPrediction[]> {
  const opts: PredictOptions = { ...options, gate: options.gate ? gateForNumbers(options.gate) : null };
  const out: NumberPrediction[] = [];
  for (const file of files) {
    try {
      const n = await loadNumberAsMnist(file, { ink: opts.ink });
      const picture = checkPicture(n.info);
      if (picture || n.digits.length === 0) {
        out.push({ file, verdict: 'rejected', reason: `invalid-input:${picture ? picture.reason : 'blank'}`, reasonDetail: picture?.reasonDetail ?? { check: 'stroke-found', value: 0, threshold: 1, message: 'no digit found in the number', short: 'no digit found' }, digits: [] });
        continue;
      }
      // every piece between two candidate cuts of each group of touching strokes, scored in one
      // batch; each group then keeps the cut whose digits the model is likeliest to accept
      const pieces: Prediction[][] = n.groups.map((g) =>
        g.segments.map(({ digit: px }) => {
          const sanity = checkInput(px, opts.sanity);
          const p: Prediction = { file, verdict: 'digit', pixels: px };
          if (!sanity.valid) {
            p.verdict = 'rejected';
            p.reason = `invalid-input:${sanity.reason}`;
            p.reasonDetail = sanity.reasonDetail;
          }
          return p;
        }),
      );
      const all = pieces.flat();
      await scorePredictions(model, all, all.map((p) => p.pixels!), opts);
      const digits = n.groups.flatMap((g, k) => bestCut(g, (i) => segmentScore(pieces[k][i]), CUT_MARGIN).map((i) => pieces[k][i]));
      digits.forEach((d, i) => (d.file = `${file}#${i + 1}`));
      const uncertain = digits.map((d, i) => (d.verdict !== 'digit' || (d.probability ?? 0) < UNCERTAIN_PROBABILITY ? i + 1 : 0)).filter((i) => i > 0);
      const rejected = digits.map((d, i) => (d.verdict !== 'digit' ? i + 1 : 0)).filter((i) => i > 0);
      out.push({
        file,
        verdict: rejected.length ? 'rejected' : 'number',
        number: digits.map((d) => (d.digit === undefined ? '?' : String(d.digit))).join(''),
        reason: rejected.length ? `not a digit at position ${rejected.join(', ')}` : undefined,
        // the first refused digit's own reason (the others are in digits[])
        reasonDetail: rejected.length ? digits[rejected[0] - 1].reasonDetail : undefined,
        uncertainPositions: uncertain,
        digits,
      });
    } catch (e) {
      out.push({ file, verdict: 'error', error: (e as Error).message });
    }
    opts.onProgress?.(out.length, files.length);
  }
  return out;
}
