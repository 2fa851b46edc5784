/** The MNIST framing every generated training digit must have (the 20x20 box, centred by mass). */
import assert from 'node:assert/strict';
import { centerOfMass, inkBBox } from '../../src/image/load';

/** Asserts that each of the `count` 28x28 images in `pixels` has its ink (>= 12) within 21 px and its centre of mass within 1 px of the middle. */
export function assertMnistFramed(pixels: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const img = pixels.subarray(i * 784, (i + 1) * 784);
    const bb = inkBBox(img, 28, 28, 12);
    assert.ok(bb && Math.max(bb.x1 - bb.x0, bb.y1 - bb.y0) + 1 <= 21, `image ${i}: ink box ${JSON.stringify(bb)}`);
    const com = centerOfMass(img, 28, 28)!;
    assert.ok(Math.abs(com.x - 14) < 1 && Math.abs(com.y - 14) < 1, `image ${i}: centre of mass ${com.x},${com.y}`);
  }
}
