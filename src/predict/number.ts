/**
 * `udq predict --number`: a number written with several digits, read left to right; every
 * digit gets its own verdict, and the number is accepted only when every digit is.
 */
import type { Predictor } from '../uq/predictor';
import { loadNumberAsMnist } from '../image/load';
import { checkInput, checkPicture, ReasonDetail } from '../gate/sanity';
import { Prediction, PredictOptions, scorePredictions } from './predict';

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

export async function predictNumbers(model: Predictor, files: string[], opts: PredictOptions): Promise<NumberPrediction[]> {
  const out: NumberPrediction[] = [];
  for (const file of files) {
    try {
      const n = await loadNumberAsMnist(file, { ink: opts.ink });
      const picture = checkPicture(n.info);
      if (picture || n.digits.length === 0) {
        out.push({ file, verdict: 'rejected', reason: `invalid-input:${picture ? picture.reason : 'blank'}`, reasonDetail: picture?.reasonDetail ?? { check: 'stroke-found', value: 0, threshold: 1, message: 'no digit found in the number', short: 'no digit found' }, digits: [] });
        continue;
      }
      const digits: Prediction[] = n.digits.map((px, i) => {
        const sanity = checkInput(px, opts.sanity);
        const p: Prediction = { file: `${file}#${i + 1}`, verdict: 'digit', pixels: px };
        if (!sanity.valid) {
          p.verdict = 'rejected';
          p.reason = `invalid-input:${sanity.reason}`;
          p.reasonDetail = sanity.reasonDetail;
        }
        return p;
      });
      await scorePredictions(model, digits, n.digits, opts);
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
