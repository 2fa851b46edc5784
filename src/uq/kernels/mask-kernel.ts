/**
 * The dropout-mask generator of the ort sampler: dropout-masks.wat (WebAssembly SIMD, four
 * units per step) fills whole blocks of rows in its own memory, which onnxruntime then reads
 * as the mask inputs. The decision per unit is fillDropoutMask's (masks.ts), bit for bit.
 */
import { DROPOUT_MASKS_WASM } from './dropout-masks.wasm';
import { maskBase } from '../masks';

// the project compiles without the DOM library, where WebAssembly's types live
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  fill(out: number, bases: number, rows: number, units: number, threshold: number, keep: number): void;
}

const PAGE = 65536;
let compiled: object | null = null;

/** One row of a block: the mask key of an image and the sample index. */
export interface MaskRow {
  image: number;
  sample: number;
}

export class MaskKernel {
  private readonly exports: Exports;
  private basesPtr = 0;
  private outPtrs: number[] = [];
  private capacityRows = 0;
  private units: number[] = [];

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(DROPOUT_MASKS_WASM, 'base64'));
    this.exports = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  }

  /** Make room for blocks of up to `rows` rows of masks with `units` values each. */
  reserve(rows: number, units: number[]): void {
    if (rows <= this.capacityRows && units.length === this.units.length && units.every((u, i) => u === this.units[i])) return;
    const align = (n: number) => Math.ceil(n / 16) * 16;
    let offset = 0;
    this.basesPtr = offset;
    offset = align(offset + rows * 4);
    this.outPtrs = units.map((u) => {
      const ptr = offset;
      offset = align(offset + rows * u * 4 + 16); // +16: the last row's spare lanes
      return ptr;
    });
    const pages = Math.ceil(offset / PAGE);
    const have = this.exports.memory.buffer.byteLength / PAGE;
    if (pages > have) this.exports.memory.grow(pages - have);
    this.capacityRows = rows;
    this.units = units.slice();
  }

  /**
   * Masks of dropout layer `layer` (its index among the model's Dropouts) for `rows`, as a view
   * into the kernel's memory (valid until the next reserve()).
   */
  fill(k: number, rows: readonly MaskRow[] | { count: number; row(r: number): MaskRow }, rate: number, seed: number, layer: number): Float32Array {
    if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate ${rate} is not in [0, 1)`);
    const count = 'count' in rows ? rows.count : rows.length;
    if (count > this.capacityRows) throw new Error('MaskKernel: block larger than reserved');
    const units = this.units[k];
    const bases = new Uint32Array(this.exports.memory.buffer, this.basesPtr, count);
    for (let r = 0; r < count; r++) {
      const { image, sample } = 'count' in rows ? rows.row(r) : rows[r];
      bases[r] = maskBase(seed, layer, image, sample);
    }
    // u32 >= rate * 2^32 (a real number)  <=>  u32 >= ceil(rate * 2^32)
    const threshold = Math.ceil(rate * 4294967296);
    this.exports.fill(this.outPtrs[k], this.basesPtr, count, units, threshold | 0, 1 / (1 - rate));
    return new Float32Array(this.exports.memory.buffer, this.outPtrs[k], count * units);
  }
}
