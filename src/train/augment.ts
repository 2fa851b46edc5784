/**
 * Augmentation that covers how people write and bring digits: a documented, seeded recipe of
 * parts applied to 28x28 training images (values 0..1, ink bright) after they are batched.
 *
 * Parts (the `users` recipe has the first eight, `style` and `fill` are added by name; README "Augmentation", and docs/RESULTS.md for what each changed):
 * - `shift`: translation by up to `shift` px in x and y;
 * - `rotate`: rotation by up to +-`rotateDeg` degrees about the centre;
 * - `shear`: horizontal shear by up to +-`shear` (x += shear * y from the centre);
 * - `scale`: overall size in [`scale[0]`, `scale[1]`];
 * - `aspect`: width alone scaled in [`aspect[0]`, `aspect[1]`]: narrow 0s and 1s, and digits
 *   stretched to fill their box (Semeion's scans);
 * - `thickness`: a pen one step thicker (grey dilation, probability `thicken`) or thinner
 *   (half-way grey erosion, probability `thin`);
 * - `elastic`: a smooth random displacement field (Simard et al. 2003), random at control points
 *   every `elasticSpacing` px and interpolated, its largest displacement up to `elasticPx` px;
 * - `fragment`: with probability `fragment`, the edge of another digit enters from the left or
 *   right, as a digit cut out of a written number shows a piece of its neighbour;
 * - `style` (not in `users`; `--augment users,style`): a writing convention MNIST's American
 *   writers rarely use: with probability `style`, a 1 gets the continental up-stroke (a flag
 *   from its top down to the left, `flagLength` of its height at `flagAngle` degrees from the
 *   stem), and with probability `foot` of those also a foot; then it is fitted to MNIST's box
 *   again ({@link continentalOne}). Needs the images' labels;
 * - `fill` (not in `users`): with probability `fill`, the digit's width stretched (at most
 *   `fillMax` times) until its box is `fillAspect` as wide as tall, instead of the `aspect`
 *   draw: digits normalised to fill a square box, as some forms' and data sets' processing
 *   leaves them (Semeion's and USPS's 16x16 scans): a narrow 1 becomes a wide diagonal.
 * - `lowres` (not in `users`): with probability `lowres`, the finished digit as a 1-bit scan at
 *   low resolution: its 28x28 frame area-averaged to `lowresSide` px square, thresholded at
 *   `lowresThreshold`, and scaled back up (bilinear): the staircase edges and flat ink of fax
 *   pages, 1-bit scanned forms and small thresholded canvases ({@link lowResScan}).
 * - `kick` (not in `users`; with `style`): the continental 1 as it is written fast: with
 *   probability `kick`, its stem ends in a kick to the right (`kickLength` of its height,
 *   `kickAngle` degrees above the horizontal), and with probability `kickFill` it is stretched
 *   towards a square box (`fillAspect`, as `fill` does), as 16x16 scan sets leave such 1s.
 *   Drawn after every other part's draws, so runs without it are reproduced exactly.
 *
 * Each image is augmented with probability `p`; the geometric parts are composed into one
 * resampling (bilinear, zero outside), so an image is interpolated once. All draws come from
 * the `random` passed in, so a seed fixes the batch.
 */
import { UsageError } from '../errors';
import { inkBBox, preprocessToMnist } from '../image/load';
import { resize } from '../image/resample';

export const AUGMENT_PARTS = ['shift', 'rotate', 'shear', 'scale', 'aspect', 'thickness', 'elastic', 'fragment', 'style', 'fill', 'lowres', 'kick'] as const;
export type AugmentPart = (typeof AUGMENT_PARTS)[number];

/** The parts of the `users` recipe (the round 4 models were trained with it: it keeps its meaning). */
export const USERS_PARTS: readonly AugmentPart[] = ['shift', 'rotate', 'shear', 'scale', 'aspect', 'thickness', 'elastic', 'fragment'];

export interface AugmentRecipe {
  parts: AugmentPart[];
  /** probability that an image is augmented at all */
  p: number;
  shift: number;
  rotateDeg: number;
  shear: number;
  scale: [number, number];
  aspect: [number, number];
  thicken: number;
  thin: number;
  elasticPx: number;
  elasticSpacing: number;
  fragment: number;
  /** probability that a 1 is written with the continental up-stroke */
  style: number;
  /** the up-stroke's length, as a share of the 1's height */
  flagLength: [number, number];
  /** the up-stroke's angle from the stem, degrees */
  flagAngle: [number, number];
  /** probability that a continental 1 also gets a foot */
  foot: number;
  /** probability that a digit is stretched to fill a square box */
  fill: number;
  /** width over height of a filled digit's box */
  fillAspect: [number, number];
  /** the most a filled digit's width is stretched */
  fillMax: number;
  /** probability that a continental 1 ends in a kick to the right (`kick`) */
  kick: number;
  /** the kick's length, as a share of the 1's height */
  kickLength: [number, number];
  /** the kick's angle above the horizontal, degrees */
  kickAngle: [number, number];
  /** probability that a continental 1 is stretched towards a square box (`kick`) */
  kickFill: number;
  /** probability that a digit is made a low-resolution 1-bit scan */
  lowres: number;
  /** the side the 28x28 frame is reduced to (the digit's 20 px box becomes 0.71 of it) */
  lowresSide: [number, number];
  /** the ink level at which the reduced frame is cut to 1 bit */
  lowresThreshold: [number, number];
}

/** The ranges of every part; the `users` recipe (USERS_PARTS on). */
export const USERS_RECIPE: AugmentRecipe = {
  parts: [...USERS_PARTS],
  p: 0.8,
  shift: 2,
  rotateDeg: 15,
  shear: 0.3,
  scale: [0.85, 1.1],
  aspect: [0.6, 1.4],
  thicken: 0.25,
  thin: 0.15,
  elasticPx: 2,
  elasticSpacing: 7,
  fragment: 0.15,
  style: 0.5,
  flagLength: [0.3, 0.7],
  flagAngle: [20, 45],
  foot: 0.25,
  fill: 0.1,
  fillAspect: [0.8, 1],
  fillMax: 3,
  kick: 0.5,
  kickLength: [0.15, 0.35],
  kickAngle: [10, 45],
  kickFill: 0.3,
  lowres: 0.15,
  lowresSide: [14, 22],
  lowresThreshold: [0.3, 0.5],
};

/**
 * `--augment`'s value as a recipe, or null for none:
 * - `0` / `off`: none; a bare integer N: shifts of up to N px only (udq's earlier `--augment N`);
 * - `users`: every part but `style`; `users,-elastic`: those but elastic (for measuring one part);
 *   `users,style`: all of them;
 * - a list of parts (`rotate,aspect,thickness`): those parts with the `users` ranges.
 */
export function parseAugment(spec: string | number | undefined): AugmentRecipe | null {
  if (spec === undefined) return null;
  const s = String(spec).trim();
  if (s === '' || s === '0' || s === 'off' || s === 'none') return null;
  if (/^\d+$/.test(s)) return { ...USERS_RECIPE, parts: ['shift'], p: 1, shift: Number(s) };
  const items = s.split(',').map((x) => x.trim()).filter(Boolean);
  let parts: AugmentPart[] = [];
  for (const item of items) {
    if (item === 'users') parts = [...USERS_PARTS];
    else if (item.startsWith('-')) {
      const name = item.slice(1) as AugmentPart;
      if (!AUGMENT_PARTS.includes(name)) throw new UsageError(`--augment: unknown part "${name}" (parts: ${AUGMENT_PARTS.join(', ')})`);
      parts = parts.filter((x) => x !== name);
    } else {
      if (!AUGMENT_PARTS.includes(item as AugmentPart)) throw new UsageError(`--augment: unknown part or recipe "${item}" (users, off, a number of pixels, or parts: ${AUGMENT_PARTS.join(', ')})`);
      if (!parts.includes(item as AugmentPart)) parts.push(item as AugmentPart);
    }
  }
  if (parts.length === 0) throw new UsageError(`--augment ${s}: no part left`);
  return { ...USERS_RECIPE, parts: AUGMENT_PARTS.filter((x) => parts.includes(x)) };
}

/** The recipe written back as `--augment` would take it (for manifests and checkpoints). */
export function augmentSpec(r: AugmentRecipe | null): string {
  if (!r) return 'off';
  if (r.parts.length === 1 && r.parts[0] === 'shift' && r.p === 1) return String(r.shift);
  const users = USERS_PARTS.every((p) => r.parts.includes(p));
  if (users && r.parts.length === USERS_PARTS.length) return 'users';
  if (users) return ['users', ...r.parts.filter((p) => !USERS_PARTS.includes(p))].join(',');
  return r.parts.join(',');
}

/** One affine map, about the image centre (13.5, 13.5): scale, then shear, then rotation, then shift. */
export interface Warp {
  /** radians; positive turns the image clockwise on screen (y points down) */
  rotate: number;
  shear: number;
  scaleX: number;
  scaleY: number;
  tx: number;
  ty: number;
}

export const IDENTITY_WARP: Warp = { rotate: 0, shear: 0, scaleX: 1, scaleY: 1, tx: 0, ty: 0 };

const SIDE = 28;
const CENTRE = 13.5;

/** Where the output pixel (x, y) samples the source under `w` (the inverse map). */
export function sourcePoint(w: Warp, x: number, y: number): [number, number] {
  // forward: p' = R * Sh * S * (p - c) + c + t; inverse: p = S^-1 * Sh^-1 * R^-1 * (p' - c - t) + c
  const X = x - CENTRE - w.tx;
  const Y = y - CENTRE - w.ty;
  const c = Math.cos(w.rotate);
  const s = Math.sin(w.rotate);
  const rx = c * X + s * Y;
  const ry = -s * X + c * Y;
  const hx = rx - w.shear * ry;
  return [hx / w.scaleX + CENTRE, ry / w.scaleY + CENTRE];
}

/** Bilinear sample of a 28x28 image, zero outside. */
function bilinear(img: Float32Array, sx: number, sy: number): number {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  if (x0 < -1 || y0 < -1 || x0 >= SIDE || y0 >= SIDE) return 0;
  const fx = sx - x0;
  const fy = sy - y0;
  const inX0 = x0 >= 0;
  const inX1 = x0 + 1 < SIDE;
  const top = y0 >= 0 ? y0 * SIDE : -1;
  const bottom = y0 + 1 < SIDE ? (y0 + 1) * SIDE : -1;
  const a = top >= 0 && inX0 ? img[top + x0] : 0;
  const b = top >= 0 && inX1 ? img[top + x0 + 1] : 0;
  const c = bottom >= 0 && inX0 ? img[bottom + x0] : 0;
  const d = bottom >= 0 && inX1 ? img[bottom + x0 + 1] : 0;
  return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
}

/**
 * `src` resampled through `w`, plus an optional displacement field (added to the source
 * point of each output pixel), into `out` (a new image when absent).
 */
export function warpImage(src: Float32Array, w: Warp, field?: DisplacementField, out = new Float32Array(SIDE * SIDE)): Float32Array {
  // sourcePoint's map, as one matrix: [sx, sy] = M * (p - c - t) + c
  const c = Math.cos(w.rotate);
  const s = Math.sin(w.rotate);
  const m00 = (c + w.shear * s) / w.scaleX;
  const m01 = (s - w.shear * c) / w.scaleX;
  const m10 = -s / w.scaleY;
  const m11 = c / w.scaleY;
  for (let y = 0; y < SIDE; y++) {
    const Y = y - CENTRE - w.ty;
    for (let x = 0; x < SIDE; x++) {
      const X = x - CENTRE - w.tx;
      let sx = m00 * X + m01 * Y + CENTRE;
      let sy = m10 * X + m11 * Y + CENTRE;
      if (field) {
        sx += field.dx[y * SIDE + x];
        sy += field.dy[y * SIDE + x];
      }
      out[y * SIDE + x] = bilinear(src, sx, sy);
    }
  }
  return out;
}

/** A pen one step thicker: each pixel takes the largest of itself and its 4 neighbours. */
export function thickenStroke(img: Float32Array, out = new Float32Array(SIDE * SIDE)): Float32Array {
  return crossFilter(img, out, Math.max);
}

/** A pen about half a step thinner: the mean of each pixel and its 4-neighbour minimum. */
export function thinStroke(img: Float32Array, out = new Float32Array(SIDE * SIDE)): Float32Array {
  crossFilter(img, out, Math.min);
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * (img[i] + out[i]);
  return out;
}

function crossFilter(img: Float32Array, out: Float32Array, pick: (a: number, b: number) => number): Float32Array {
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = y * SIDE + x;
      let v = img[i];
      v = pick(v, x > 0 ? img[i - 1] : 0);
      v = pick(v, x < SIDE - 1 ? img[i + 1] : 0);
      v = pick(v, y > 0 ? img[i - SIDE] : 0);
      v = pick(v, y < SIDE - 1 ? img[i + SIDE] : 0);
      out[i] = v;
    }
  }
  return out;
}

export interface DisplacementField {
  dx: Float32Array;
  dy: Float32Array;
}

/**
 * A smooth random displacement field (Simard et al. 2003's smoothed random field, computed on a
 * coarse grid): uniform values in [-1, 1] per axis at control points every `spacing` px,
 * interpolated between them with smoothstep weights (continuous, with a continuous slope
 * along each axis), then scaled so that the largest displacement (over both axes) is `amplitude` px.
 */
export function elasticField(random: () => number, amplitude: number, spacing: number): DisplacementField {
  const n = Math.ceil((SIDE - 1) / spacing) + 1;
  const gx = new Float32Array(n * n);
  const gy = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    gx[i] = 2 * random() - 1;
    gy[i] = 2 * random() - 1;
  }
  const dx = new Float32Array(SIDE * SIDE);
  const dy = new Float32Array(SIDE * SIDE);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  let peak = 0;
  for (let y = 0; y < SIDE; y++) {
    const fy = y / spacing;
    const j = Math.min(n - 2, Math.floor(fy));
    const v = smooth(fy - j);
    for (let x = 0; x < SIDE; x++) {
      const fx = x / spacing;
      const i = Math.min(n - 2, Math.floor(fx));
      const u = smooth(fx - i);
      const k = j * n + i;
      const w00 = (1 - u) * (1 - v);
      const w01 = u * (1 - v);
      const w10 = (1 - u) * v;
      const w11 = u * v;
      const ax = w00 * gx[k] + w01 * gx[k + 1] + w10 * gx[k + n] + w11 * gx[k + n + 1];
      const ay = w00 * gy[k] + w01 * gy[k + 1] + w10 * gy[k + n] + w11 * gy[k + n + 1];
      dx[y * SIDE + x] = ax;
      dy[y * SIDE + x] = ay;
      peak = Math.max(peak, Math.hypot(ax, ay));
    }
  }
  const scale = peak > 0 ? amplitude / peak : 0;
  for (let i = 0; i < dx.length; i++) {
    dx[i] *= scale;
    dy[i] *= scale;
  }
  return { dx, dy };
}

/**
 * The edge of `neighbour` entering `img` (in place, brightest wins) from `side`: the neighbour's
 * ink columns are placed so that its last (left side) or first (right side) `width` ink
 * columns fall inside the frame, moved `dy` px vertically.
 */
export function addFragment(img: Float32Array, neighbour: Float32Array, side: 'left' | 'right', width: number, dy: number): Float32Array {
  let first = SIDE;
  let last = -1;
  for (let x = 0; x < SIDE; x++) {
    for (let y = 0; y < SIDE; y++) {
      if (neighbour[y * SIDE + x] > 0.1) {
        first = Math.min(first, x);
        last = Math.max(last, x);
        break;
      }
    }
  }
  if (last < 0) return img;
  // source column sx lands on sx + shift
  const shift = side === 'left' ? width - 1 - last : SIDE - width - first;
  for (let y = 0; y < SIDE; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= SIDE) continue;
    for (let x = 0; x < SIDE; x++) {
      const inFrame = side === 'left' ? x < width : x >= SIDE - width;
      if (!inFrame) continue;
      const sx = x - shift;
      if (sx < 0 || sx >= SIDE) continue;
      const v = neighbour[sy * SIDE + sx];
      if (v > img[y * SIDE + x]) img[y * SIDE + x] = v;
    }
  }
  return img;
}

/** The random parameters of one image's augmentation (null parts are off). */
export interface AugmentDraw {
  warp: Warp;
  field: DisplacementField | null;
  stroke: 'thicken' | 'thin' | null;
  fragment: { side: 'left' | 'right'; width: number; dy: number; neighbour: number } | null;
  /** a continental 1 (`style`), drawn only for images labelled 1 */
  style?: ContinentalOne | null;
  /** `fill`: the box's width over height to stretch the digit to, and the most it may be stretched (the warp's scaleX is multiplied by what it takes) */
  fill?: { aspect: number; max: number } | null;
  /** `lowres`: the side the frame is reduced to and the 1-bit threshold */
  lowres?: { side: number; threshold: number } | null;
}

/**
 * Draw one image's parameters from the recipe; `pool` is how many images a neighbour may come
 * from, `label` the image's class where known (the `style` part needs it). Without `style` the
 * draws are the same as before the part existed, so a `users` run is reproduced exactly.
 */
export function drawAugment(r: AugmentRecipe, random: () => number, pool: number, label?: number): AugmentDraw {
  const on = (p: AugmentPart) => r.parts.includes(p);
  const u = (a: number, b: number) => a + (b - a) * random();
  const scale = on('scale') ? u(r.scale[0], r.scale[1]) : 1;
  const aspect = on('aspect') ? u(r.aspect[0], r.aspect[1]) : 1;
  const warp: Warp = {
    rotate: on('rotate') ? (u(-r.rotateDeg, r.rotateDeg) * Math.PI) / 180 : 0,
    shear: on('shear') ? u(-r.shear, r.shear) : 0,
    scaleX: scale * aspect,
    scaleY: scale,
    tx: on('shift') ? Math.round(u(-r.shift - 0.5, r.shift + 0.5)) : 0,
    ty: on('shift') ? Math.round(u(-r.shift - 0.5, r.shift + 0.5)) : 0,
  };
  const field = on('elastic') ? elasticField(random, u(0, r.elasticPx), r.elasticSpacing) : null;
  let stroke: AugmentDraw['stroke'] = null;
  if (on('thickness')) {
    const t = random();
    stroke = t < r.thicken ? 'thicken' : t < r.thicken + r.thin ? 'thin' : null;
  }
  let fragment: AugmentDraw['fragment'] = null;
  if (on('fragment') && pool > 0 && random() < r.fragment) {
    fragment = { side: random() < 0.5 ? 'left' : 'right', width: 2 + Math.floor(random() * 4), dy: Math.round(u(-3, 3)), neighbour: Math.floor(random() * pool) };
  }
  let style: ContinentalOne | null = null;
  if (on('style') && label === 1 && random() < r.style) {
    style = { length: u(r.flagLength[0], r.flagLength[1]), angleDeg: u(r.flagAngle[0], r.flagAngle[1]), foot: random() < r.foot ? u(0.2, 0.35) : 0 };
  }
  const d: AugmentDraw = style ? { warp, field, stroke, fragment, style } : { warp, field, stroke, fragment };
  if (on('fill') && random() < r.fill) {
    d.fill = { aspect: u(r.fillAspect[0], r.fillAspect[1]), max: r.fillMax };
    // the stretch replaces the aspect draw (both would push a digit out of the frame)
    d.warp.scaleX = scale;
  }
  if (on('lowres') && random() < r.lowres) {
    d.lowres = { side: Math.round(u(r.lowresSide[0] - 0.5, r.lowresSide[1] + 0.5)), threshold: u(r.lowresThreshold[0], r.lowresThreshold[1]) };
  }
  if (on('kick') && style) {
    if (random() < r.kick) style.kick = { length: u(r.kickLength[0], r.kickLength[1]), angleDeg: u(r.kickAngle[0], r.kickAngle[1]) };
    if (random() < r.kickFill && !d.fill) {
      d.fill = { aspect: u(r.fillAspect[0], r.fillAspect[1]), max: r.fillMax };
      d.warp.scaleX = scale;
    }
  }
  return d;
}

/** Apply a drawn augmentation to `img` (28x28) into `out`; `neighbourOf(i)` gives pool image i. */
export function applyAugment(img: Float32Array, d: AugmentDraw, out: Float32Array, neighbourOf?: (i: number) => Float32Array): Float32Array {
  const tmp = new Float32Array(SIDE * SIDE);
  let cur = d.style ? continentalOne(img, d.style) : img;
  if (d.stroke === 'thicken') cur = thickenStroke(cur, new Float32Array(SIDE * SIDE));
  else if (d.stroke === 'thin') cur = thinStroke(cur, new Float32Array(SIDE * SIDE));
  const stretch = d.fill ? fillStretch(cur, d.fill.aspect, d.fill.max) : 1;
  warpImage(cur, stretch > 1 ? { ...d.warp, scaleX: d.warp.scaleX * stretch } : d.warp, d.field ?? undefined, tmp);
  // a stretched pen is as much wider: thinned back across (MNIST's pen is about 2.2 px: that much per unit of stretch)
  if (stretch > 1) tmp.set(erodeX(tmp, Math.round(1.1 * (stretch - 1))));
  if (d.fragment && neighbourOf) addFragment(tmp, neighbourOf(d.fragment.neighbour), d.fragment.side, d.fragment.width, d.fragment.dy);
  out.set(d.lowres ? lowResScan(tmp, d.lowres.side, d.lowres.threshold) : tmp);
  return out;
}

/**
 * In place on a filled batch (`count` images of 784 in `buf`): each image, with probability
 * `r.p`, augmented by the recipe. A fragment's neighbour is image `i` of `pool` (0..1 floats);
 * `labelOf(b)` is image b's class (for `style`; images without labels never get it).
 */
export function augmentBatch(buf: Float32Array, count: number, r: AugmentRecipe, random: () => number, pool?: { count: number; image(i: number): Float32Array }, labelOf?: (b: number) => number): void {
  const img = new Float32Array(SIDE * SIDE);
  for (let b = 0; b < count; b++) {
    if (random() >= r.p) continue;
    const o = b * SIDE * SIDE;
    img.set(buf.subarray(o, o + SIDE * SIDE));
    const d = drawAugment(r, random, pool?.count ?? 0, labelOf?.(b));
    applyAugment(img, d, buf.subarray(o, o + SIDE * SIDE), pool ? (i) => pool.image(i) : undefined);
  }
}

/** The continental 1's strokes, relative to the 1's own height (`style`). */
export interface ContinentalOne {
  /** up-stroke length, share of the height */
  length: number;
  /** up-stroke angle from the stem, degrees, turned towards the left */
  angleDeg: number;
  /** half-width of a foot, share of the height; 0 for none */
  foot: number;
  /** a kick from the stem's bottom to the right (`kick`): length as a share of the height, angle above the horizontal */
  kick?: { length: number; angleDeg: number };
}

/**
 * A 1 written the continental way: an up-stroke from the top of the stem down to the left
 * (`length` of the 1's height, `angleDeg` from the stem, at most 50 degrees from the vertical), a foot across its bottom when
 * `foot` > 0 and a kick from its bottom up to the right when `kick` is given, drawn with the digit's own pen (its ink area over its height, 1.5-3.5 px,
 * anti-aliased, brightest wins); then fitted to MNIST's 20x20 box and centred by mass again, as
 * such a 1 is after the picture pipeline. An image without ink is returned unchanged. Pure.
 */
export function continentalOne(img: Float32Array, s: ContinentalOne): Float32Array {
  const INK = 0.3;
  const box = inkBBox(img, SIDE, SIDE, INK);
  if (!box || box.y1 - box.y0 < 4) return img;
  const top = box.y0;
  const bottom = box.y1;
  let area = 0;
  for (let i = 0; i < img.length; i++) area += img[i];
  // the stem's ends: ink-weighted centres of its top and bottom two rows
  const rowCentre = (y0: number, y1: number): number => {
    let m = 0;
    let mx = 0;
    for (let y = y0; y <= y1; y++) for (let x = 0; x < SIDE; x++) {
      const v = img[y * SIDE + x];
      if (v < INK) continue;
      m += v;
      mx += v * x;
    }
    return m > 0 ? mx / m : CENTRE;
  };
  const tx = rowCentre(top, top + 1);
  const bx = rowCentre(bottom - 1, bottom);
  const h = bottom - top;
  // the stem's lean: positive when its bottom lies left of its top
  const sx = tx - bx;
  const sy = h;
  // the stem's downward direction turned towards -x by the angle, but never flatter than 50
  // degrees from the vertical (flatter, on a 1 leaning right, it is a 7's bar)
  const a = Math.min((s.angleDeg * Math.PI) / 180 + Math.atan2(sx, sy), (50 * Math.PI) / 180);
  const dx = -Math.sin(a);
  const dy = Math.cos(a);
  const pen = Math.min(3.5, Math.max(1.5, area / (h + 1)));
  // drawn on a larger canvas (the up-stroke and foot may reach past the 28x28 frame), then refitted
  const M = 14;
  const W = SIDE + 2 * M;
  const canvas = new Float32Array(W * W);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) canvas[(y + M) * W + x + M] = img[y * SIDE + x];
  const L = s.length * h;
  drawSegment(canvas, W, tx + M, top + M, tx + M + L * dx, top + M + L * dy, pen);
  if (s.foot > 0) {
    const f = s.foot * h;
    drawSegment(canvas, W, bx + M - f, bottom + M, bx + M + f, bottom + M, pen);
  }
  if (s.kick) {
    const k = s.kick.length * h;
    const ka = (s.kick.angleDeg * Math.PI) / 180;
    drawSegment(canvas, W, bx + M, bottom + M, bx + M + k * Math.cos(ka), bottom + M - k * Math.sin(ka), pen);
  }
  return preprocessToMnist(canvas, W, W, { threshold: 0.02, normalize: false }).pixels;
}

/** An anti-aliased segment of width `pen` drawn into a `w`-wide canvas (brightest wins): 1 within the pen's radius of it, fading to 0 over one more pixel. */
export function drawSegment(canvas: Float32Array, w: number, x0: number, y0: number, x1: number, y1: number, pen: number): void {
  const h = canvas.length / w;
  const vx = x1 - x0;
  const vy = y1 - y0;
  const len2 = vx * vx + vy * vy;
  const r = pen / 2;
  const xa = Math.max(0, Math.floor(Math.min(x0, x1) - r - 1));
  const xb = Math.min(w - 1, Math.ceil(Math.max(x0, x1) + r + 1));
  const ya = Math.max(0, Math.floor(Math.min(y0, y1) - r - 1));
  const yb = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + r + 1));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - x0) * vx + (y - y0) * vy) / len2)) : 0;
      const d = Math.hypot(x - x0 - t * vx, y - y0 - t * vy);
      const v = Math.max(0, Math.min(1, r + 0.5 - d));
      if (v > canvas[y * w + x]) canvas[y * w + x] = v;
    }
  }
}

/**
 * How much to stretch a digit's width so that its ink box (pixels >= 0.3) is `aspect` as wide
 * as tall: 1 when it is already as wide or has no ink, at most `max`. Pure.
 */
export function fillStretch(img: Float32Array, aspect: number, max: number): number {
  // > 0.3 on float32 values is >= 0.3 (no float32 equals the double 0.3)
  const box = inkBBox(img, SIDE, SIDE, 0.3);
  if (!box) return 1;
  return Math.min(max, Math.max(1, (aspect * (box.y1 - box.y0 + 1)) / (box.x1 - box.x0 + 1)));
}

/** Grey erosion along x only: each pixel the least of the `r` pixels either side of it and itself (outside the frame counts as ink-free). Pure. */
export function erodeX(img: Float32Array, r: number): Float32Array {
  if (r <= 0) return img;
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let m = Infinity;
      for (let k = x - r; k <= x + r; k++) m = Math.min(m, k < 0 || k >= SIDE ? 0 : img[y * SIDE + k]);
      out[y * SIDE + x] = m;
    }
  }
  return out;
}

/**
 * A 28x28 image as a 1-bit scan at low resolution (`lowres`): area-averaged to `side` x `side`,
 * each pixel ink (1) where it reaches `threshold` and paper (0) elsewhere, then scaled back to
 * 28x28 (linear interpolation, {@link resize}). Thin strokes that cover under `threshold` of a coarse pixel vanish, as they
 * do on a real 1-bit scan. Pure.
 */
export function lowResScan(img: Float32Array, side: number, threshold: number): Float32Array {
  const small = resize(img, SIDE, SIDE, side, side);
  for (let i = 0; i < small.length; i++) small[i] = small[i] >= threshold ? 1 : 0;
  return resize(small, side, side, SIDE, SIDE);
}
