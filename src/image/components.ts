/**
 * Connected components of a binary mask and the choice of which ones are the written
 * character: pure functions, table-tested.
 */

/** One 8-connected component. */
export interface Component {
  /** label in the label image (1-based) */
  label: number;
  area: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** sum of the ink values under the component */
  mass: number;
  /** centre of the bounding box */
  cx: number;
  cy: number;
  touchesEdge: boolean;
}

/**
 * The indices of pixel (x, y)'s 8-neighbours inside a width x height frame, written into `out`
 * (8 long); returns how many there are. Pure but for `out`.
 */
export function neighbours8(x: number, y: number, width: number, height: number, out: Int32Array): number {
  let n = 0;
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= height) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if ((dx === 0 && dy === 0) || xx < 0 || xx >= width) continue;
      out[n++] = yy * width + xx;
    }
  }
  return n;
}

/**
 * Label the 8-connected components of `mask` (non-zero = foreground). Returns the label
 * image (0 = background) and the components (with the ink mass read from `ink`).
 */
export function labelComponents(mask: Uint8Array, width: number, height: number, ink?: ArrayLike<number>): { labels: Int32Array; components: Component[] } {
  const labels = new Int32Array(width * height);
  const around = new Int32Array(8);
  const components: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = components.length + 1;
    const c: Component = { label, area: 0, x0: width, y0: height, x1: -1, y1: -1, mass: 0, cx: 0, cy: 0, touchesEdge: false };
    labels[start] = label;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      c.area++;
      c.mass += ink ? ink[p] : 1;
      if (x < c.x0) c.x0 = x;
      if (x > c.x1) c.x1 = x;
      if (y < c.y0) c.y0 = y;
      if (y > c.y1) c.y1 = y;
      const n = neighbours8(x, y, width, height, around);
      for (let j = 0; j < n; j++) {
        const q = around[j];
        if (mask[q] && !labels[q]) {
          labels[q] = label;
          stack.push(q);
        }
      }
    }
    c.cx = (c.x0 + c.x1) / 2;
    c.cy = (c.y0 + c.y1) / 2;
    c.touchesEdge = c.x0 === 0 || c.y0 === 0 || c.x1 === width - 1 || c.y1 === height - 1;
    components.push(c);
  }
  return { labels, components };
}

/** A band along the frame of a width x height picture (a table edge, a shadow, the sheet's border): a component touching the edge and spanning half a side. */
export function isFrameBand(c: Pick<Component, 'x0' | 'y0' | 'x1' | 'y1' | 'touchesEdge'>, width: number, height: number): boolean {
  return c.touchesEdge && (c.x1 - c.x0 + 1 >= 0.5 * width || c.y1 - c.y0 + 1 >= 0.5 * height);
}

/** Options of {@link selectCharacter}. */
export interface SelectOptions {
  /** components smaller than this fraction of the largest kept one are specks (default 0.04) */
  minRelativeArea?: number;
  /** and smaller than this many pixels always (default 3) */
  minArea?: number;
  /** a component joins the character when its box is within this many times the character's size (default 0.35) */
  joinDistance?: number;
  /** the frame: an edge-touching component spanning half of a side of it is never the character */
  frame?: { width: number; height: number };
}

function boxGap(a: { x0: number; y0: number; x1: number; y1: number }, b: { x0: number; y0: number; x1: number; y1: number }): number {
  const dx = Math.max(0, a.x0 - b.x1, b.x0 - a.x1);
  const dy = Math.max(0, a.y0 - b.y1, b.y0 - a.y1);
  return Math.hypot(dx, dy);
}

/**
 * Which components make up the written character: specks are dropped; components touching
 * the frame edge (a table edge, a shadow, the paper's border) are dropped when a clear
 * component away from the edge exists; then the largest remaining component (by ink mass)
 * seeds the character and every non-speck component close to it joins (the broken strokes
 * of one digit, the dot of an i). Returns the kept labels (possibly empty).
 */
export function selectCharacter(components: Component[], opts: SelectOptions = {}): number[] {
  const minRel = opts.minRelativeArea ?? 0.04;
  const minArea = opts.minArea ?? 3;
  const join = opts.joinDistance ?? 0.35;
  let pool = components.filter((c) => c.area >= minArea);
  if (pool.length === 0) return [];
  const inner = pool.filter((c) => !c.touchesEdge);
  const biggestAll = Math.max(...pool.map((c) => c.mass));
  const biggestInner = inner.length ? Math.max(...inner.map((c) => c.mass)) : 0;
  // prefer what is away from the frame edge when it is a clear shape of its own, or when what
  // touches the edge is a band along it (a table edge, a shadow, the border of the sheet)
  const frame = opts.frame;
  const band = (c: Component) => frame !== undefined && isFrameBand(c, frame.width, frame.height);
  if (inner.length && (biggestInner >= 0.15 * biggestAll || pool.filter((c) => c.touchesEdge).every(band))) pool = inner;
  const seed = pool.reduce((a, b) => (b.mass > a.mass ? b : a));
  const kept = [seed];
  const box = { x0: seed.x0, y0: seed.y0, x1: seed.x1, y1: seed.y1 };
  let grew = true;
  while (grew) {
    grew = false;
    const size = Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
    for (const c of pool) {
      if (kept.includes(c)) continue;
      if (c.area < minRel * seed.area) continue;
      if (boxGap(c, box) <= join * size) {
        kept.push(c);
        box.x0 = Math.min(box.x0, c.x0);
        box.y0 = Math.min(box.y0, c.y0);
        box.x1 = Math.max(box.x1, c.x1);
        box.y1 = Math.max(box.y1, c.y1);
        grew = true;
      }
    }
  }
  return kept.map((c) => c.label);
}
