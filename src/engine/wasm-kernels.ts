/**
 * Kernels and gradients the wasm backend lacks, and faster replacements for slow ones
 * (DESIGN.md section 3). Everything here is built from kernels wasm does have.
 *
 * - Conv2D gradient (used by training): the filter gradient is a forward Conv2D over the
 *   batch-transposed input (x -> [Cin,H,W,N], dy -> [Ho,Wo,N,Cout] as the filter,
 *   dilation = stride); the input gradient is a forward Conv2D of the padded dy with the
 *   spatially flipped, in/out-swapped filter, split for stride s > 1 into s*s output phases
 *   that each use one residue class of filter taps (no zero-inserted dy). wasm has no
 *   Conv2DBackpropFilter kernel, and its Conv2DBackpropInput is a scalar loop.
 * - Conv2DBackpropFilter kernel registered for wasm (the fused-conv gradient calls it
 *   directly), composed from the wasm Transpose / Pad / Conv2D / Slice kernels.
 * - FusedBatchNorm gradient that reduces first and broadcasts, instead of tiling.
 * - BatchMatMul with transposeA/B: transpose explicitly, then a plain matmul.
 * - Sum and Mean over every axis but the last (bias and BatchNorm gradients, batch moments):
 *   an XNNPACK average pool over x viewed as [1, M/W, W, C] (times M for Sum), instead of
 *   wasm's transpose-then-reduce.
 *
 * The gradient overrides are global in tfjs; on any backend other than wasm they delegate
 * to the gradients tfjs ships, so tensorflow and cpu keep their own kernels.
 */
import * as tf from '@tensorflow/tfjs';

type Attrs = Record<string, unknown>;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

let registered = false;

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

function pair(v: unknown): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1])];
  return [Number(v), Number(v)];
}

/** Padding (top, bottom, left, right) a Conv2D applied, for the supported pad kinds. */
export function convPadding(
  pad: Pad,
  inH: number,
  inW: number,
  kH: number,
  kW: number,
  sH: number,
  sW: number,
): { top: number; bottom: number; left: number; right: number; outH: number; outW: number } {
  if (pad === 'valid') {
    return { top: 0, bottom: 0, left: 0, right: 0, outH: Math.ceil((inH - kH + 1) / sH), outW: Math.ceil((inW - kW + 1) / sW) };
  }
  if (pad === 'same') {
    const outH = Math.ceil(inH / sH);
    const outW = Math.ceil(inW / sW);
    const padH = Math.max((outH - 1) * sH + kH - inH, 0);
    const padW = Math.max((outW - 1) * sW + kW - inW, 0);
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    return { top, bottom: padH - top, left, right: padW - left, outH, outW };
  }
  if (typeof pad === 'number') {
    const outH = Math.floor((inH + 2 * pad - kH) / sH) + 1;
    const outW = Math.floor((inW + 2 * pad - kW) / sW) + 1;
    return { top: pad, bottom: pad, left: pad, right: pad, outH, outW };
  }
  const [, [top, bottom], [left, right]] = pad;
  const outH = Math.floor((inH + top + bottom - kH) / sH) + 1;
  const outW = Math.floor((inW + left + right - kW) / sW) + 1;
  return { top, bottom, left, right, outH, outW };
}

/** dL/dfilter of an NHWC Conv2D, as a forward convolution over the batch-transposed input. */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kH, kW] = filterShape;
    const [, inH, inW] = x.shape;
    const p = convPadding(pad, inH, inW, kH, kW, strides[0], strides[1]);
    const [, outH, outW] = dy.shape;
    // Only the rows/cols the forward pass actually read: padded extent needed is (out-1)*s + k.
    const needH = (outH - 1) * strides[0] + kH;
    const needW = (outW - 1) * strides[1] + kW;
    const xp = padOrCrop(x, p.top, Math.min(p.bottom, needH - inH - p.top), p.left, Math.min(p.right, needW - inW - p.left));
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, H, W, N]
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, Cout]
    const g = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', strides); // [Cin, kH, kW, Cout]
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * dL/dx of an NHWC Conv2D, as forward convolutions with the spatially flipped, in/out-swapped
 * filter. Stride 1: one convolution of the padded dy. Stride s > 1: the s*s output phases
 * (dx[s*q + a]) each get the filter taps of one residue class, so each phase is a small
 * convolution of dy itself and the phases are interleaved afterwards; no work is spent on
 * the zeros a zero-inserted dy would carry.
 */
export function conv2dInputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: [number, number],
  pad: Pad,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, inH, inW, cIn] = xShape;
    const [kH, kW] = filter.shape;
    const [sH, sW] = strides;
    const p = convPadding(pad, inH, inW, kH, kW, sH, sW);
    const [, outH, outW] = dy.shape;
    const phasesH = Array.from({ length: sH }, (_, a) => phaseTaps(inH, kH, sH, p.top, outH, a));
    const phasesW = Array.from({ length: sW }, (_, a) => phaseTaps(inW, kW, sW, p.left, outW, a));
    const qH = Math.ceil(inH / sH);
    const qW = Math.ceil(inW / sW);
    const rows = phasesH.map((ph) => {
      const cols = phasesW.map((pw) => {
        let out: tf.Tensor4D;
        if (ph.taps === 0 || pw.taps === 0 || ph.count === 0 || pw.count === 0) {
          out = tf.zeros([n, ph.count, pw.count, cIn]);
        } else {
          const sub = tf.stridedSlice(filter, [ph.residue, pw.residue, 0, 0], filter.shape, [sH, sW, 1, 1]) as tf.Tensor4D;
          const flipped = tf.transpose(tf.reverse(sub, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [tH,tW,Cout,Cin]
          out = tf.conv2d(padOrCrop(dy, ph.before, ph.after, pw.before, pw.after), flipped, 1, 'valid');
        }
        return qH === ph.count && qW === pw.count ? out : tf.pad(out, [[0, 0], [0, qH - ph.count], [0, qW - pw.count], [0, 0]]);
      });
      if (sW === 1) return cols[0];
      return tf.reshape(tf.stack(cols, 3), [n, qH, qW * sW, cIn]);
    });
    let dx = (sH === 1 ? rows[0] : tf.reshape(tf.stack(rows, 2), [n, qH * sH, qW * sW, cIn])) as tf.Tensor4D;
    if (dx.shape[1] !== inH || dx.shape[2] !== inW) dx = tf.slice(dx, [0, 0, 0, 0], [-1, inH, inW, -1]);
    if (dx.shape[3] !== cIn) throw new Error(`conv2dInputGradient: got ${dx.shape}, expected ${xShape}`);
    return dx;
  });
}

/**
 * One output phase a (positions s*q + a) of a strided convolution's input gradient along one
 * axis: dx[s*q + a] = sum_j dy[q + c - j] * w[s*j + r] with r = (a + padBefore) mod s and
 * c = floor((a + padBefore) / s). As a valid correlation with the flipped taps, dy needs
 * `before` / `after` padding (negative = crop); `count` phase outputs, `taps` filter taps.
 */
export function phaseTaps(inLen: number, k: number, s: number, padBefore: number, outLen: number, a: number) {
  const residue = (a + padBefore) % s;
  const c = Math.floor((a + padBefore) / s);
  const taps = residue < k ? Math.ceil((k - residue) / s) : 0;
  const count = Math.max(Math.ceil((inLen - a) / s), 0);
  return { residue, taps, count, before: taps - 1 - c, after: count + c - outLen };
}

/** Pad (positive) or crop (negative) the two spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let d = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    d = tf.pad(d, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    d = tf.slice(d, [0, t, l, 0], [-1, d.shape[1] - t - Math.max(-bottom, 0), d.shape[2] - l - Math.max(-right, 0), -1]);
  }
  return d;
}

function isSupportedConv(attrs: Attrs): boolean {
  const [dH, dW] = pair(attrs.dilations ?? 1);
  return dH === 1 && dW === 1 && (attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC');
}

function registerConv2DGradient(): void {
  const original = tf.getGradient('Conv2D');
  if (!original) return;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs) => {
      if (!onWasm() || !isSupportedConv(attrs)) return original.gradFunc(dy, saved, attrs as never);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const strides = pair(attrs.strides);
      const pad = attrs.pad as Pad;
      const g = dy as tf.Tensor4D;
      return {
        x: () => conv2dInputGradient(x.shape, g, filter, strides, pad),
        filter: () => conv2dFilterGradient(x, g, filter.shape, strides, pad),
      };
    },
  });
}

/** Conv2DBackpropFilter for wasm, built from the wasm kernels themselves (engine-free). */
function registerConv2DBackpropFilterKernel(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as Attrs;
      const filterShape = a.filterShape as [number, number, number, number];
      if (!isSupportedConv(a)) throw new Error('Conv2DBackpropFilter on wasm: only NHWC, dilation 1');
      const strides = pair(a.strides);
      const k = (name: string) => tf.getKernel(name, 'wasm')!.kernelFunc;
      const b = backend as { disposeData(id: object): void };
      const temps: tf.TensorInfo[] = [];
      const run = (name: string, ins: Record<string, tf.TensorInfo>, at: Attrs) => {
        const out = k(name)({ inputs: ins, backend, attrs: at as never }) as tf.TensorInfo;
        temps.push(out);
        return out;
      };
      try {
        const [kH, kW] = filterShape;
        const p = convPadding(a.pad as Pad, x.shape[1], x.shape[2], kH, kW, strides[0], strides[1]);
        let xp = x;
        if (p.top || p.bottom || p.left || p.right) {
          xp = run('PadV2', { x }, { paddings: [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]], constantValue: 0 });
        }
        const needH = (dy.shape[1] - 1) * strides[0] + kH;
        const needW = (dy.shape[2] - 1) * strides[1] + kW;
        if (xp.shape[1] > needH || xp.shape[2] > needW) {
          xp = run('Slice', { x: xp }, { begin: [0, 0, 0, 0], size: [xp.shape[0], needH, needW, xp.shape[3]] });
        }
        const xt = run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] });
        const dyt = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
        const g = run('Conv2D', { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: strides, dimRoundingMode: undefined });
        const out = k('Transpose')({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } as never }) as tf.TensorInfo;
        return out;
      } finally {
        for (const t of temps) if (t !== x && t !== dy) b.disposeData(t.dataId);
      }
    },
  });
}

function registerBatchNormGradient(): void {
  const original = tf.getGradient('FusedBatchNorm');
  if (!original) return;
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs) => {
      const [x, mean, variance, scale] = saved;
      if (!onWasm() || mean.rank !== 1 || variance.rank !== 1 || (scale != null && scale.rank !== 1)) {
        return original.gradFunc(dyIn, saved, attrs as never);
      }
      const dy = dyIn as tf.Tensor;
      const eps = Number(attrs.varianceEpsilon);
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const rstd = tf.rsqrt(tf.add(variance, eps));
      const s = scale ?? tf.onesLike(mean);
      const sumDy = () => tf.sum(dy, axes);
      const sumDyXc = () => tf.sum(tf.mul(dy, tf.sub(x, mean)), axes);
      return {
        x: () => tf.mul(dy, tf.mul(s, rstd)),
        mean: () => tf.neg(tf.mul(tf.mul(s, rstd), sumDy())),
        variance: () => tf.mul(tf.mul(sumDyXc(), s), tf.mul(tf.pow(rstd, 3), -0.5)),
        scale: () => tf.mul(sumDyXc(), rstd),
        offset: () => sumDy(),
      };
    },
  });
}

function registerBatchMatMulTransposes(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return;
  const transposeLast2 = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
      const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
      const bk = backend as { disposeData(id: object): void };
      const at = transposeA ? (transpose({ inputs: { x: a }, backend, attrs: { perm: transposeLast2(a.shape.length) } as never }) as tf.TensorInfo) : a;
      const bt = transposeB ? (transpose({ inputs: { x: b }, backend, attrs: { perm: transposeLast2(b.shape.length) } as never }) as tf.TensorInfo) : b;
      try {
        return original.kernelFunc({ inputs: { a: at, b: bt }, backend, attrs: { ...(attrs as object), transposeA: false, transposeB: false } as never });
      } finally {
        if (at !== a) bk.disposeData(at.dataId);
        if (bt !== b) bk.disposeData(bt.dataId);
      }
    },
  });
}

/**
 * Sum/Mean over every axis but the last (BatchNorm moments and their gradients): wasm
 * transposes the reduced axes innermost first, which is slow. XNNPACK's NHWC average pool
 * reads the channels contiguously instead: view x as [1, m/b, b, C], pool the whole window,
 * and scale by m for Sum.
 */
function registerLeadingAxesReductions(): void {
  for (const name of ['Sum', 'Mean'] as const) {
    const original = tf.getKernel(name, 'wasm');
    if (!original || !tf.getKernel('AvgPool', 'wasm')) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x } = inputs as { x: tf.TensorInfo };
        const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
        const rank = x.shape.length;
        const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
        const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
        const size = x.shape.reduce((a, b) => a * b, 1);
        if (!leading || x.dtype !== 'float32' || size === 0) return original.kernelFunc({ inputs, backend, attrs });
        const k = (n: string) => tf.getKernel(n, 'wasm')!.kernelFunc;
        const bk = backend as { disposeData(id: object): void };
        const c = x.shape[rank - 1];
        const m = size / c;
        const w = rank >= 3 ? x.shape[rank - 2] : 1;
        const x4 = k('Reshape')({ inputs: { x }, backend, attrs: { shape: [1, m / w, w, c] } as never }) as tf.TensorInfo;
        const mean = k('AvgPool')({
          inputs: { x: x4 },
          backend,
          attrs: { filterSize: [m / w, w], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined } as never,
        }) as tf.TensorInfo;
        const temps = [x4, mean];
        let result = mean;
        if (name === 'Sum') {
          const scale = k('Fill')({ inputs: {}, backend, attrs: { shape: [], value: m, dtype: 'float32' } as never }) as tf.TensorInfo;
          result = k('Multiply')({ inputs: { a: mean, b: scale }, backend }) as tf.TensorInfo;
          temps.push(scale, result);
        }
        const shape = keepDims ? [...Array(rank - 1).fill(1), c] : [c];
        const out = k('Reshape')({ inputs: { x: result }, backend, attrs: { shape } as never }) as tf.TensorInfo;
        for (const t of temps) bk.disposeData(t.dataId);
        return out;
      },
    });
  }
}

/** Register everything above (idempotent). Call before `tf.setBackend('wasm')`. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  registerConv2DGradient();
  registerConv2DBackpropFilterKernel();
  registerBatchNormGradient();
  registerBatchMatMulTransposes();
  registerLeadingAxesReductions();
}
