/**
 * IDX file format (LeCun's MNIST format): read and write, raw or gzip-compressed.
 *
 * Layout: 2 zero bytes, a type byte, a rank byte, `rank` big-endian uint32 dimensions,
 * then the data in row-major order (big-endian for multi-byte types).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from '../errors';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const TYPE_CODES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

/** Magic numbers of the MNIST files: 0x00000803 images (2051), 0x00000801 labels (2049). */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Parse an IDX buffer (gzip detected by its magic bytes). `name` is used in error messages. */
export function parseIdx(input: Uint8Array, name = 'IDX data'): IdxArray {
  let buf = input;
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new DataError(`${name}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) throw new DataError(`${name}: too short to be an IDX file (${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(`${name}: not an IDX file (magic starts with 0x${hex(buf[0])}${hex(buf[1])}, expected 0x0000)`);
  }
  const code = TYPE_CODES[buf[2]];
  if (!code) throw new DataError(`${name}: unknown IDX data type 0x${hex(buf[2])}`);
  const rank = buf[3];
  if (rank < 1) throw new DataError(`${name}: IDX rank is 0`);
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new DataError(`${name}: truncated header (${buf.length} of ${headerBytes} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * code.bytes;
  if (buf.length < expected) {
    throw new DataError(`${name}: truncated: ${buf.length} bytes, header [${dims.join('x')}] ${code.type} needs ${expected}`);
  }
  if (buf.length > expected) {
    throw new DataError(`${name}: ${buf.length - expected} unexpected trailing bytes after [${dims.join('x')}] ${code.type} data`);
  }
  return { type: code.type, dims, data: decode(view, headerBytes, count, code.type) };
}

function decode(view: DataView, offset: number, count: number, type: IdxType): IdxData {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** IDX type code and element size of a typed array. */
function typeOf(data: IdxData): { code: number; bytes: number } {
  if (data instanceof Uint8Array) return { code: 0x08, bytes: 1 };
  if (data instanceof Int8Array) return { code: 0x09, bytes: 1 };
  if (data instanceof Int16Array) return { code: 0x0b, bytes: 2 };
  if (data instanceof Int32Array) return { code: 0x0c, bytes: 4 };
  if (data instanceof Float32Array) return { code: 0x0d, bytes: 4 };
  return { code: 0x0e, bytes: 8 };
}

/** Serialise an array to IDX bytes (optionally gzip-compressed). */
export function encodeIdx(arr: { dims: number[]; data: IdxData }, opts: { gzip?: boolean } = {}): Buffer {
  const count = arr.dims.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) throw new DataError(`encodeIdx: dims [${arr.dims.join('x')}] hold ${count} values, data has ${arr.data.length}`);
  const { code, bytes } = typeOf(arr.data);
  const header = 4 + 4 * arr.dims.length;
  const buf = Buffer.alloc(header + count * bytes);
  buf[2] = code;
  buf[3] = arr.dims.length;
  arr.dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const d = arr.data;
  for (let i = 0; i < count; i++) {
    const o = header + i * bytes;
    if (d instanceof Uint8Array) view.setUint8(o, d[i]);
    else if (d instanceof Int8Array) view.setInt8(o, d[i]);
    else if (d instanceof Int16Array) view.setInt16(o, d[i], false);
    else if (d instanceof Int32Array) view.setInt32(o, d[i], false);
    else if (d instanceof Float32Array) view.setFloat32(o, d[i], false);
    else view.setFloat64(o, d[i], false);
  }
  return opts.gzip ? gzipSync(buf) : buf;
}

export function readIdx(path: string): IdxArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`${path}: cannot read (${err.code ?? err.message})`);
  }
  return parseIdx(buf, path);
}

export function writeIdx(path: string, arr: { dims: number[]; data: IdxData }, opts: { gzip?: boolean } = {}): void {
  writeFileSync(path, encodeIdx(arr, opts));
}

/** An image set: N images of rows x cols uint8 pixels (0 = background). */
export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

/** Read an IDX images file (rank 3, uint8); `expectMagic` checks the MNIST convention. */
export function readIdxImages(path: string): ImageSet {
  const arr = readIdx(path);
  if (arr.type !== 'uint8' || arr.dims.length !== 3) {
    throw new DataError(`${path}: expected uint8 images [N x rows x cols], found ${arr.type} [${arr.dims.join('x')}]`);
  }
  const [count, rows, cols] = arr.dims;
  return { count, rows, cols, pixels: arr.data as Uint8Array };
}

/** Read an IDX labels file (rank 1, uint8). */
export function readIdxLabels(path: string): Uint8Array {
  const arr = readIdx(path);
  if (arr.type !== 'uint8' || arr.dims.length !== 1) {
    throw new DataError(`${path}: expected uint8 labels [N], found ${arr.type} [${arr.dims.join('x')}]`);
  }
  return arr.data as Uint8Array;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
