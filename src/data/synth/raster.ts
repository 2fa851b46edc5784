/**
 * A tiny anti-aliased rasteriser for ink images (values 0..1, y-down pixel coordinates,
 * pixel (i, j) covers [i, i+1) x [j, j+1)). Pure: canvases in, canvases out.
 */
import type { Polyline } from './path';

/** A single-channel canvas. */
export interface Canvas {
  width: number;
  height: number;
  data: Float32Array;
}

/** A blank canvas. */
export function makeCanvas(width: number, height: number): Canvas {
  return { width, height, data: new Float32Array(width * height) };
}

/**
 * Trace polylines with a round pen (round caps and joins). Coverage of a pixel is
 * `clamp(r - d + 0.5)` where d is the distance from its centre to the stroke's centre line
 * and r the local half-width; overlapping strokes combine by max. `widthAt` gives the pen
 * width at a point (pressure); the width of a segment is that at its midpoint.
 */
export function strokePolylines(canvas: Canvas, lines: readonly Polyline[], widthAt: (x: number, y: number) => number): void {
  const { width: W, height: H, data } = canvas;
  for (const line of lines) {
    const segs = line.length === 1 ? [[line[0], line[0]]] : line.slice(1).map((p, i) => [line[i], p]);
    for (const [[ax, ay], [bx, by]] of segs) {
      const r = widthAt((ax + bx) / 2, (ay + by) / 2) / 2;
      const xs = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1));
      const xe = Math.min(W - 1, Math.ceil(Math.max(ax, bx) + r + 1));
      const ys = Math.max(0, Math.floor(Math.min(ay, by) - r - 1));
      const ye = Math.min(H - 1, Math.ceil(Math.max(ay, by) + r + 1));
      const dx = bx - ax;
      const dy = by - ay;
      const L2 = dx * dx + dy * dy;
      for (let y = ys; y <= ye; y++) {
        const py = y + 0.5;
        for (let x = xs; x <= xe; x++) {
          const px = x + 0.5;
          let t = L2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / L2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = px - ax - t * dx;
          const ey = py - ay - t * dy;
          const c = r - Math.sqrt(ex * ex + ey * ey) + 0.5;
          if (c > 0) {
            const v = c > 1 ? 1 : c;
            const i = y * W + x;
            if (v > data[i]) data[i] = v;
          }
        }
      }
    }
  }
}

/**
 * Fill closed contours with the non-zero winding rule (what fonts use). Anti-aliased with
 * `sub` sub-scanlines per pixel row and exact horizontal coverage; combines with the
 * canvas by max.
 */
export function fillContours(canvas: Canvas, contours: readonly Polyline[], sub = 4): void {
  const { width: W, height: H, data } = canvas;
  const edges: { x0: number; y0: number; x1: number; y1: number; dir: number }[] = [];
  for (const c of contours) {
    for (let i = 0; i < c.length; i++) {
      const [ax, ay] = c[i];
      const [bx, by] = c[(i + 1) % c.length];
      if (ay === by) continue;
      edges.push(ay < by ? { x0: ax, y0: ay, x1: bx, y1: by, dir: 1 } : { x0: bx, y0: by, x1: ax, y1: ay, dir: -1 });
    }
  }
  // bucket edges by the first pixel row they reach, then keep an active list per row
  type Edge = (typeof edges)[number];
  const starts: Edge[][] = Array.from({ length: H }, () => []);
  for (const e of edges) {
    if (e.y1 <= 0 || e.y0 >= H) continue;
    starts[Math.max(0, Math.floor(e.y0))].push(e);
  }
  let active: Edge[] = [];
  const row = new Float32Array(W);
  const xs: { x: number; dir: number }[] = [];
  for (let y = 0; y < H; y++) {
    active = active.filter((e) => e.y1 > y);
    for (const e of starts[y]) active.push(e);
    if (active.length === 0) continue;
    row.fill(0);
    let touched = false;
    for (let s = 0; s < sub; s++) {
      const sy = y + (s + 0.5) / sub;
      xs.length = 0;
      for (const e of active) {
        if (sy >= e.y0 && sy < e.y1) xs.push({ x: e.x0 + ((sy - e.y0) * (e.x1 - e.x0)) / (e.y1 - e.y0), dir: e.dir });
      }
      if (xs.length < 2) continue;
      xs.sort((a, b) => a.x - b.x);
      let wind = 0;
      for (let k = 0; k < xs.length - 1; k++) {
        wind += xs[k].dir;
        if (wind === 0) continue;
        const a = Math.max(0, xs[k].x);
        const b = Math.min(W, xs[k + 1].x);
        if (b <= a) continue;
        touched = true;
        for (let x = Math.floor(a); x < Math.ceil(b); x++) {
          row[x] += (Math.min(b, x + 1) - Math.max(a, x)) / sub;
        }
      }
    }
    if (!touched) continue;
    for (let x = 0; x < W; x++) {
      const v = row[x] > 1 ? 1 : row[x];
      if (v > data[y * W + x]) data[y * W + x] = v;
    }
  }
}
