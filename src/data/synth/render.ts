/**
 * Draw one letter as a jittered "handwritten" ink image: normalise the glyph, warp it with a
 * smooth random (elastic) displacement field, apply a random affine map (rotation, shear,
 * aspect, scale), then rasterise with a pen of varying width (single-stroke fonts) or fill
 * the outline and optionally trace it to thicken it (outline fonts). Pure given the style.
 */
import type { Glyph, GlyphKind } from './glyphs';
import { bounds, densify, mapPoints, Polyline, Pt } from './path';
import { Canvas, fillContours, makeCanvas, strokePolylines } from './raster';
import type { Rng } from './random';

/** One wave of a smooth random field: amp * sin(2 pi (fx x + fy y) + phase). */
export interface Wave {
  amp: number;
  fx: number;
  fy: number;
  phase: number;
}

/** Every random choice made for one image (so a drawing can be reproduced or inspected). */
export interface LetterStyle {
  /** rotation in radians (positive = clockwise on screen) */
  rotation: number;
  /** horizontal shear (x += shear * y) */
  shear: number;
  /** width/height stretch factor (1 = unchanged) */
  aspect: number;
  /** displacement field for x and for y, in units of the glyph's longer side */
  warpX: Wave[];
  warpY: Wave[];
  /** pen width as a fraction of the drawn letter's longer side (stroke fonts) */
  penWidth: number;
  /** relative pen-width modulation along the drawing (0 = constant) */
  pressure: Wave;
  /** width of the pen traced over filled outlines, fraction of the longer side (0 = none) */
  outlineWidth: number;
}

/** Ranges the styles are drawn from (documented defaults; tuned by eye and by mean ink). */
export const STYLE_RANGES = {
  rotationDeg: 15,
  shear: 0.25,
  aspectLog: 0.2,
  warpAmp: 0.03,
  warpFreq: [0.4, 1.4] as [number, number],
  penWidth: [0.09, 0.165] as [number, number],
  pressure: 0.25,
  outlineWidth: [0, 0.06] as [number, number],
};

function waves(rng: Rng, n: number, amp: number): Wave[] {
  const out: Wave[] = [];
  for (let k = 0; k < n; k++) {
    const f = rng.uniform(STYLE_RANGES.warpFreq[0], STYLE_RANGES.warpFreq[1]);
    const theta = rng.uniform(0, 2 * Math.PI);
    out.push({ amp: (amp * rng.uniform(0.3, 1)) / Math.sqrt(n), fx: f * Math.cos(theta), fy: f * Math.sin(theta), phase: rng.uniform(0, 2 * Math.PI) });
  }
  return out;
}

/** Draw a random style for a glyph of the given kind. */
export function sampleStyle(rng: Rng, kind: GlyphKind): LetterStyle {
  const R = STYLE_RANGES;
  return {
    rotation: (rng.uniform(-R.rotationDeg, R.rotationDeg) * Math.PI) / 180,
    shear: rng.uniform(-R.shear, R.shear),
    aspect: Math.exp(rng.uniform(-R.aspectLog, R.aspectLog)),
    warpX: waves(rng, 3, R.warpAmp),
    warpY: waves(rng, 3, R.warpAmp),
    penWidth: rng.uniform(R.penWidth[0], R.penWidth[1]),
    pressure: { amp: rng.uniform(0, R.pressure), fx: rng.uniform(-2, 2), fy: rng.uniform(-2, 2), phase: rng.uniform(0, 2 * Math.PI) },
    outlineWidth: kind === 'fill' ? rng.uniform(R.outlineWidth[0], R.outlineWidth[1]) : 0,
  };
}

function field(ws: readonly Wave[], x: number, y: number): number {
  let v = 0;
  for (const w of ws) v += w.amp * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
  return v;
}

/**
 * Geometry step: glyph polylines -> warped, transformed polylines with longer side 1,
 * centred on the origin. Pure.
 */
export function warpGlyph(lines: readonly Polyline[], style: LetterStyle): Polyline[] {
  const b = bounds(lines);
  if (!b) return [];
  const side = Math.max(b.x1 - b.x0, b.y1 - b.y0) || 1;
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  const unit = mapPoints(lines, ([x, y]) => [(x - cx) / side, (y - cy) / side]);
  const dense = densify(unit, 0.04);
  const cos = Math.cos(style.rotation);
  const sin = Math.sin(style.rotation);
  const sa = Math.sqrt(style.aspect);
  return mapPoints(dense, ([x, y]): Pt => {
    const wx = x + field(style.warpX, x, y);
    const wy = y + field(style.warpY, x, y);
    const ax = (wx + style.shear * wy) * sa;
    const ay = wy / sa;
    return [cos * ax - sin * ay, sin * ax + cos * ay];
  });
}

/**
 * Render a glyph with a style into an ink canvas whose drawing's longer side is `size`
 * pixels (plus a margin for the pen). Pure.
 */
export function renderGlyph(glyph: Glyph, style: LetterStyle, size = 64): Canvas {
  const warped = warpGlyph(glyph.lines, style);
  const b = bounds(warped);
  if (!b) return makeCanvas(1, 1);
  const side = Math.max(b.x1 - b.x0, b.y1 - b.y0) || 1;
  const k = size / side;
  const pen = glyph.kind === 'stroke' ? style.penWidth * size : style.outlineWidth * size;
  const pad = Math.ceil(pen / 2) + 2;
  const W = Math.ceil((b.x1 - b.x0) * k) + 2 * pad;
  const H = Math.ceil((b.y1 - b.y0) * k) + 2 * pad;
  const px = mapPoints(warped, ([x, y]) => [(x - b.x0) * k + pad, (y - b.y0) * k + pad]);
  const canvas = makeCanvas(W, H);
  const p = style.pressure;
  const widthAt = (x: number, y: number): number => pen * (1 + p.amp * Math.sin(2 * Math.PI * (p.fx * x + p.fy * y) / size + p.phase));
  if (glyph.kind === 'fill') fillContours(canvas, px);
  if (pen > 0) strokePolylines(canvas, px, widthAt);
  return canvas;
}
