/**
 * Vector paths as polylines: parse SVG path data, flatten curves, subdivide. Pure.
 * Coordinates are y-down (screen convention) unless a caller flips them.
 */

/** A point [x, y]. */
export type Pt = [number, number];
/** An open or closed run of points (closed contours repeat their first point at the end). */
export type Polyline = Pt[];

/** A path command in absolute coordinates (the shape opentype.js's `Path.commands` uses). */
export type PathCommand =
  | { type: 'M'; x: number; y: number }
  | { type: 'L'; x: number; y: number }
  | { type: 'Q'; x1: number; y1: number; x: number; y: number }
  | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
  | { type: 'Z' };

/**
 * Parse SVG path data with the commands M, L, H, V, Q, C, Z (absolute or relative); enough
 * for Hershey/EMS SVG fonts and hanzi-writer stroke outlines.
 * @throws Error on an unsupported command (A, S, T)
 */
export function parseSvgPath(d: string): PathCommand[] {
  const tokens = d.match(/[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? [];
  const out: PathCommand[] = [];
  let i = 0;
  let cmd = '';
  let cx = 0;
  let cy = 0;
  let sx = 0;
  let sy = 0;
  const num = (): number => {
    const t = tokens[i++];
    if (t === undefined || /^[A-Za-z]$/.test(t)) throw new Error(`SVG path: number expected near token ${i}`);
    return Number(t);
  };
  while (i < tokens.length) {
    if (/^[A-Za-z]$/.test(tokens[i])) cmd = tokens[i++];
    else if (!cmd) throw new Error('SVG path: data must start with a command');
    const rel = cmd === cmd.toLowerCase();
    const ox = rel ? cx : 0;
    const oy = rel ? cy : 0;
    switch (cmd.toUpperCase()) {
      case 'M': {
        cx = ox + num();
        cy = oy + num();
        sx = cx;
        sy = cy;
        out.push({ type: 'M', x: cx, y: cy });
        cmd = rel ? 'l' : 'L'; // further pairs are line-tos
        break;
      }
      case 'L':
        cx = ox + num();
        cy = oy + num();
        out.push({ type: 'L', x: cx, y: cy });
        break;
      case 'H':
        cx = ox + num();
        out.push({ type: 'L', x: cx, y: cy });
        break;
      case 'V':
        cy = oy + num();
        out.push({ type: 'L', x: cx, y: cy });
        break;
      case 'Q': {
        const x1 = ox + num();
        const y1 = oy + num();
        cx = ox + num();
        cy = oy + num();
        out.push({ type: 'Q', x1, y1, x: cx, y: cy });
        break;
      }
      case 'C': {
        const x1 = ox + num();
        const y1 = oy + num();
        const x2 = ox + num();
        const y2 = oy + num();
        cx = ox + num();
        cy = oy + num();
        out.push({ type: 'C', x1, y1, x2, y2, x: cx, y: cy });
        break;
      }
      case 'Z':
        out.push({ type: 'Z' });
        cx = sx;
        cy = sy;
        cmd = '';
        break;
      default:
        throw new Error(`SVG path: unsupported command ${cmd}`);
    }
  }
  return out;
}

/**
 * Flatten commands into polylines (one per subpath; Z closes by repeating the first point).
 * Curves are split into `segments` straight pieces each.
 */
export function flattenCommands(cmds: readonly PathCommand[], segments = 8): Polyline[] {
  const lines: Polyline[] = [];
  let cur: Polyline | null = null;
  let x = 0;
  let y = 0;
  for (const c of cmds) {
    if (c.type === 'M') {
      if (cur && cur.length > 1) lines.push(cur);
      cur = [[c.x, c.y]];
      x = c.x;
      y = c.y;
      continue;
    }
    if (c.type === 'Z') {
      if (cur && cur.length > 1) {
        const [fx, fy] = cur[0];
        if (cur[cur.length - 1][0] !== fx || cur[cur.length - 1][1] !== fy) cur.push([fx, fy]);
        lines.push(cur);
        x = fx;
        y = fy;
      }
      cur = null;
      continue;
    }
    if (!cur) cur = [[x, y]];
    if (c.type === 'L') {
      cur.push([c.x, c.y]);
    } else if (c.type === 'Q') {
      for (let k = 1; k <= segments; k++) {
        const t = k / segments;
        const u = 1 - t;
        cur.push([u * u * x + 2 * u * t * c.x1 + t * t * c.x, u * u * y + 2 * u * t * c.y1 + t * t * c.y]);
      }
    } else {
      for (let k = 1; k <= segments; k++) {
        const t = k / segments;
        const u = 1 - t;
        const a = u * u * u;
        const b = 3 * u * u * t;
        const d = 3 * u * t * t;
        const e = t * t * t;
        cur.push([a * x + b * c.x1 + d * c.x2 + e * c.x, a * y + b * c.y1 + d * c.y2 + e * c.y]);
      }
    }
    x = c.x;
    y = c.y;
  }
  if (cur && cur.length > 1) lines.push(cur);
  return lines;
}

/** Split every segment longer than `maxLen` into equal pieces (so warps bend lines). */
export function densify(lines: readonly Polyline[], maxLen: number): Polyline[] {
  return lines.map((line) => {
    const out: Polyline = [line[0]];
    for (let i = 1; i < line.length; i++) {
      const [ax, ay] = line[i - 1];
      const [bx, by] = line[i];
      const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / maxLen));
      for (let k = 1; k <= n; k++) out.push([ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n]);
    }
    return out;
  });
}

/** Bounding box of all points, or null when there are none. */
export function bounds(lines: readonly Polyline[]): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const line of lines) {
    for (const [x, y] of line) {
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x0 === Infinity ? null : { x0, y0, x1, y1 };
}

/** Apply a point map to every point. */
export function mapPoints(lines: readonly Polyline[], f: (p: Pt) => Pt): Polyline[] {
  return lines.map((line) => line.map(f));
}
