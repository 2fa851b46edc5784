/**
 * The reject gate's model: L2-regularised logistic regression on standardised features, fitted
 * by Newton's method (IRLS) with a backtracking line search, in plain TypeScript
 * (DESIGN.md section 5: a few thousand samples x at most a few dozen features).
 *
 * Label 1 = not a digit (adversary / out-of-distribution), label 0 = in-distribution digit, so
 * the model's output is P(not a digit). An image is accepted as a digit iff that probability
 * is below the gate's threshold (see `chooseThreshold`).
 *
 * Objective minimised over weights w (standardised space) and bias b:
 *
 *     (1/n) sum_i logloss(y_i, sigmoid(b + w . z_i))  +  (l2/2) ||w||^2
 *
 * where z_ij = (x_ij - mean_j) / std_j. The loss is averaged, so `l2` does not need rescaling
 * with the sample count (it equals scikit-learn's 1/(C n)). The bias is not penalised.
 */
import { ModelError, UsageError } from '../errors';

/**
 * Default L2 strength (on standardised features, averaged loss): 1e-3. Weak enough not to
 * bias a well-determined fit of a few thousand samples, strong enough to keep weights finite
 * on separable data and to make correlated features (the 10 per-class stds) well-conditioned.
 */
export const DEFAULT_L2 = 1e-3;
/** Default Newton iteration cap; Newton usually converges in fewer than 15. */
export const DEFAULT_MAX_ITER = 100;
/** Default convergence tolerance on the largest absolute gradient entry of the objective. */
export const DEFAULT_TOL = 1e-8;

/** A fitted gate, as stored in JSON. */
export interface LogisticModel {
  /** names of the features, in input order, when the caller gave them */
  featureNames?: string[];
  /** per-feature mean used for standardisation */
  mean: number[];
  /** per-feature population standard deviation used for standardisation (1 where it was 0) */
  std: number[];
  /** weights on the standardised features */
  weights: number[];
  /** intercept (not penalised) */
  bias: number;
  /** L2 strength the model was fitted with */
  l2: number;
  /** Newton iterations taken */
  iterations: number;
  /** whether the gradient tolerance was reached within maxIter */
  converged: boolean;
}

/** Options of `fitLogistic`. */
export interface FitLogisticOptions {
  /** L2 strength on standardised weights, >= 0 (default DEFAULT_L2 = 1e-3) */
  l2?: number;
  /** Newton iteration cap (default 100) */
  maxIter?: number;
  /** stop when max |gradient| <= tol (default 1e-8) */
  tol?: number;
  /** stored in the model; must have one name per feature */
  featureNames?: string[];
}

/**
 * Fit the gate on feature rows `X` (n x d) with labels `y` (1 = not a digit).
 * Both labels must occur. Features are standardised with their mean and population std
 * (a constant feature gets std 1 and so contributes nothing).
 * @throws UsageError on empty input, ragged rows, non-finite values, labels other than 0/1,
 *   a single class, or bad options
 */
export function fitLogistic(X: number[][], y: (0 | 1)[], opts: FitLogisticOptions = {}): LogisticModel {
  const l2 = opts.l2 ?? DEFAULT_L2;
  const maxIter = opts.maxIter ?? DEFAULT_MAX_ITER;
  const tol = opts.tol ?? DEFAULT_TOL;
  if (!Number.isFinite(l2) || l2 < 0) throw new UsageError(`l2 must be a finite number >= 0, got ${l2}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new UsageError(`maxIter must be an integer >= 0, got ${maxIter}`);
  if (!(tol > 0) || !Number.isFinite(tol)) throw new UsageError(`tol must be a finite number > 0, got ${tol}`);

  const n = X.length;
  if (n === 0) throw new UsageError('cannot fit a gate on no samples');
  if (y.length !== n) throw new UsageError(`${n} feature rows but ${y.length} labels`);
  const d = X[0].length;
  if (d === 0) throw new UsageError('feature rows are empty');
  X.forEach((row, i) => {
    if (row.length !== d) throw new UsageError(`feature row ${i} has ${row.length} values, expected ${d}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new UsageError(`feature ${j} of row ${i} is ${v}`);
    });
  });
  let positives = 0;
  y.forEach((label, i) => {
    if (label !== 0 && label !== 1) throw new UsageError(`label ${i} is ${String(label)}; expected 0 or 1`);
    positives += label;
  });
  if (positives === 0 || positives === n) {
    throw new UsageError('the gate needs both digits (label 0) and non-digits (label 1) to fit');
  }
  if (opts.featureNames !== undefined && opts.featureNames.length !== d) {
    throw new UsageError(`${opts.featureNames.length} feature names for ${d} features`);
  }

  // Standardise.
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j++) mean[j] += row[j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (const row of X) for (let j = 0; j < d; j++) std[j] += (row[j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j] / n);
    // A feature is constant when its spread is 0 or at the rounding level of its magnitude
    // (n copies of c need not average to exactly c); it then gets std 1 and weight 0.
    std[j] = s > 1e-12 * Math.abs(mean[j]) ? s : 1;
  }
  // Design matrix with a trailing column of ones for the bias: parameters theta = [w, b].
  const p = d + 1;
  const Z: Float64Array[] = X.map((row) => {
    const z = new Float64Array(p);
    for (let j = 0; j < d; j++) z[j] = (row[j] - mean[j]) / std[j];
    z[d] = 1;
    return z;
  });
  const labels = Float64Array.from(y);

  const objective = (theta: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const margin = dot(theta, Z[i]);
      // logloss = softplus(margin) - y*margin, computed stably
      loss += softplus(margin) - labels[i] * margin;
    }
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += theta[j] * theta[j];
    return loss / n + 0.5 * l2 * penalty;
  };

  // Start from the intercept-only optimum without penalty: b = logit(mean y).
  const theta = new Float64Array(p);
  const rate = positives / n;
  theta[d] = Math.log(rate / (1 - rate));
  let currentObjective = objective(theta);
  let iterations = 0;
  let converged = false;

  for (;;) {
    const gradient = new Float64Array(p);
    const hessian: Float64Array[] = Array.from({ length: p }, () => new Float64Array(p));
    for (let i = 0; i < n; i++) {
      const z = Z[i];
      const prob = sigmoid(dot(theta, z));
      const residual = prob - labels[i];
      const weight = prob * (1 - prob);
      for (let a = 0; a < p; a++) {
        gradient[a] += residual * z[a];
        const wa = weight * z[a];
        for (let b = 0; b <= a; b++) hessian[a][b] += wa * z[b];
      }
    }
    for (let a = 0; a < p; a++) {
      gradient[a] /= n;
      for (let b = 0; b <= a; b++) {
        hessian[a][b] /= n;
        hessian[b][a] = hessian[a][b];
      }
    }
    for (let j = 0; j < d; j++) {
      gradient[j] += l2 * theta[j];
      hessian[j][j] += l2;
    }
    let maxGradient = 0;
    for (let a = 0; a < p; a++) maxGradient = Math.max(maxGradient, Math.abs(gradient[a]));
    if (maxGradient <= tol) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;
    iterations++;

    // Newton direction: solve H step = -gradient.
    const step = solveSymmetricPositiveDefinite(hessian, gradient.map((g) => -g));
    let slope = 0;
    for (let a = 0; a < p; a++) slope += gradient[a] * step[a];
    // Backtracking (Armijo) line search keeps every iteration a descent step.
    let t = 1;
    let candidate = new Float64Array(p);
    let candidateObjective = Infinity;
    for (let halvings = 0; halvings < 60; halvings++) {
      for (let a = 0; a < p; a++) candidate[a] = theta[a] + t * step[a];
      candidateObjective = objective(candidate);
      if (candidateObjective <= currentObjective + 1e-4 * t * slope) break;
      t /= 2;
    }
    if (!(candidateObjective <= currentObjective)) break; // no progress possible at this precision
    theta.set(candidate);
    candidate = new Float64Array(p);
    currentObjective = candidateObjective;
  }

  const model: LogisticModel = {
    mean,
    std,
    weights: Array.from(theta.subarray(0, d)),
    bias: theta[d],
    l2,
    iterations,
    converged,
  };
  return opts.featureNames !== undefined ? { featureNames: [...opts.featureNames], ...model } : model;
}

/**
 * The gate's P(not a digit) for one feature vector (raw, unstandardised features, in the
 * model's feature order).
 * @throws UsageError on a length mismatch or a non-finite feature
 */
export function predictProba(model: LogisticModel, x: number[]): number {
  return sigmoid(logisticMargin(model, x));
}

/**
 * The gate's linear score (log-odds of "not a digit") for one feature vector: P = sigmoid(margin).
 * @throws UsageError on a length mismatch or a non-finite feature
 */
export function logisticMargin(model: LogisticModel, x: number[]): number {
  const d = model.weights.length;
  if (x.length !== d) throw new UsageError(`the gate expects ${d} features, got ${x.length}`);
  let margin = model.bias;
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(x[j])) throw new UsageError(`feature ${j} is ${x[j]}`);
    margin += (model.weights[j] * (x[j] - model.mean[j])) / model.std[j];
  }
  return margin;
}

/**
 * The acceptance threshold for a target digit acceptance rate. The gate accepts an image as a
 * digit iff its P(not a digit) < threshold.
 *
 * With the n in-distribution scores sorted ascending s_1 <= ... <= s_n and
 * m = ceil(acceptRate * n) (computed with a 1e-9 guard against rounding, so 0.7 * 10 gives 7):
 * - m = 0: the threshold is s_1, which accepts none of them;
 * - otherwise the threshold is the smallest double above s_m, so exactly the scores <= s_m
 *   are accepted. When scores tie with s_m the whole tied group is accepted, so the accepted
 *   fraction is the smallest achievable one that is >= acceptRate. The result depends only
 *   on the multiset of scores, not their order.
 * This matches `fprAtDigitAcceptRate` in metrics.ts, which counts adversaries with score <= s_m.
 * @param scoresOfDigits gate outputs for in-distribution digits (label 0)
 * @param acceptRate target fraction of those to accept, in [0, 1]
 * @throws UsageError on no scores, a non-finite score, or acceptRate outside [0, 1]
 */
export function chooseThreshold(scoresOfDigits: number[], acceptRate: number): number {
  if (scoresOfDigits.length === 0) throw new UsageError('cannot choose a threshold from no scores');
  if (!(acceptRate >= 0 && acceptRate <= 1)) throw new UsageError(`accept rate must be in [0, 1], got ${acceptRate}`);
  scoresOfDigits.forEach((s, i) => {
    if (!Number.isFinite(s)) throw new UsageError(`score ${i} is ${s}`);
  });
  const sorted = Float64Array.from(scoresOfDigits).sort();
  const n = sorted.length;
  const acceptCount = Math.min(n, Math.max(0, Math.ceil(acceptRate * n - 1e-9)));
  if (acceptCount === 0) return sorted[0];
  return nextUp(sorted[acceptCount - 1]);
}

/**
 * The largest threshold at which at most `extra` (a share of `total`) more adversary images are
 * accepted (score < threshold) than at `own`. `adversaryScores` are the scores of the adversary
 * images that reach the gate, `total` counts all of them (refused ones included). Infinity when
 * no threshold lets that many more through. Pure.
 */
export function adversaryCap(adversaryScores: number[], total: number, own: number, extra: number): number {
  const sorted = Float64Array.from(adversaryScores).sort();
  const acceptedAtOwn = sorted.filter((v) => v < own).length;
  const allowed = Math.floor(acceptedAtOwn + extra * total + 1e-9);
  return allowed >= sorted.length ? Infinity : sorted[allowed];
}

/** The smallest double greater than a finite `x`. */
export function nextUp(x: number): number {
  if (!Number.isFinite(x)) throw new UsageError(`nextUp needs a finite number, got ${x}`);
  if (x === 0) return Number.MIN_VALUE;
  const buffer = new Float64Array([x]);
  const bits = new BigInt64Array(buffer.buffer);
  bits[0] += x > 0 ? 1n : -1n;
  return buffer[0];
}

/**
 * Check that a parsed JSON value is a usable LogisticModel (for loading a stored gate).
 * @throws ModelError describing the first problem found
 */
export function parseLogisticModel(value: unknown): LogisticModel {
  if (typeof value !== 'object' || value === null) throw new ModelError('gate model is not an object');
  const record = value as Record<string, unknown>;
  const numberArray = (key: string): number[] => {
    const v = record[key];
    if (!Array.isArray(v) || !v.every((e): e is number => typeof e === 'number' && Number.isFinite(e))) {
      throw new ModelError(`gate model field '${key}' is not an array of finite numbers`);
    }
    return v;
  };
  const weights = numberArray('weights');
  const mean = numberArray('mean');
  const std = numberArray('std');
  const d = weights.length;
  if (d === 0 || mean.length !== d || std.length !== d) {
    throw new ModelError(`gate model has ${d} weights, ${mean.length} means and ${std.length} stds`);
  }
  if (std.some((s) => !(s > 0))) throw new ModelError('gate model has a non-positive std');
  const { bias, l2, iterations, converged, featureNames } = record;
  if (typeof bias !== 'number' || !Number.isFinite(bias)) throw new ModelError('gate model bias is not a finite number');
  if (typeof l2 !== 'number' || !(l2 >= 0)) throw new ModelError('gate model l2 is not a number >= 0');
  if (typeof iterations !== 'number' || !Number.isInteger(iterations)) {
    throw new ModelError('gate model iterations is not an integer');
  }
  if (typeof converged !== 'boolean') throw new ModelError('gate model converged is not a boolean');
  const model: LogisticModel = { mean, std, weights, bias, l2, iterations, converged };
  if (featureNames !== undefined) {
    if (!Array.isArray(featureNames) || featureNames.length !== d || !featureNames.every((f) => typeof f === 'string')) {
      throw new ModelError(`gate model featureNames is not a list of ${d} strings`);
    }
    return { featureNames: featureNames as string[], ...model };
  }
  return model;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Solve A x = b for symmetric positive (semi)definite A by Cholesky. If A is not numerically
 * positive definite (possible only when l2 = 0 or every sample is saturated), a growing
 * multiple of the identity is added until the factorisation succeeds.
 */
function solveSymmetricPositiveDefinite(A: Float64Array[], b: Float64Array): Float64Array {
  const p = b.length;
  let trace = 0;
  for (let i = 0; i < p; i++) trace += A[i][i];
  const scale = Math.max(trace / p, 1e-300);
  for (let jitter = 0; ; jitter = jitter === 0 ? 1e-12 * scale : jitter * 10) {
    const L = cholesky(A, jitter);
    if (L !== null) {
      // forward: L u = b, then back: L^T x = u
      const u = new Float64Array(p);
      for (let i = 0; i < p; i++) {
        let s = b[i];
        for (let k = 0; k < i; k++) s -= L[i][k] * u[k];
        u[i] = s / L[i][i];
      }
      const x = new Float64Array(p);
      for (let i = p - 1; i >= 0; i--) {
        let s = u[i];
        for (let k = i + 1; k < p; k++) s -= L[k][i] * x[k];
        x[i] = s / L[i][i];
      }
      return x;
    }
    if (jitter > scale) throw new UsageError('the gate fit is numerically singular (features may be degenerate)');
  }
}

function cholesky(A: Float64Array[], jitter: number): Float64Array[] | null {
  const p = A.length;
  const L: Float64Array[] = Array.from({ length: p }, () => new Float64Array(p));
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j] + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i][i] = Math.sqrt(s);
      } else {
        L[i][j] = s / L[j][j];
      }
    }
  }
  return L;
}
