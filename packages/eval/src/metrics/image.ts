import { checkFiniteArray, checkInteger, fail } from '../util/check.js';

/**
 * An image as a flat array: `hwc` (interleaved, like canvas ImageData) or `chw` (planar, like a tensor).
 * Values are in [0, dataRange] (e.g. 255 for 8-bit, 1 or 2 for float images).
 */
export interface ImageArray {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** Default 1. */
  channels?: number;
  /** Default 'hwc'. */
  layout?: 'hwc' | 'chw';
}

/** Checks an image and returns its planes as Float64Arrays of length width*height. */
export function imagePlanes(where: string, field: string, img: ImageArray): Float64Array[] {
  if (img === null || typeof img !== 'object')
    fail(where, field, 'must be { data, width, height, channels? }');
  const w = checkInteger(where, `${field}.width`, img.width, 1);
  const h = checkInteger(where, `${field}.height`, img.height, 1);
  const c = checkInteger(where, `${field}.channels`, img.channels ?? 1, 1);
  const layout = img.layout ?? 'hwc';
  if (layout !== 'hwc' && layout !== 'chw')
    fail(where, `${field}.layout`, `must be 'hwc' or 'chw' (got ${layout})`);
  const data = checkFiniteArray(where, `${field}.data`, img.data, { length: w * h * c });
  const planes: Float64Array[] = [];
  for (let ch = 0; ch < c; ch++) {
    const p = new Float64Array(w * h);
    if (layout === 'chw') for (let i = 0; i < w * h; i++) p[i] = data[ch * w * h + i]!;
    else for (let i = 0; i < w * h; i++) p[i] = data[i * c + ch]!;
    planes.push(p);
  }
  return planes;
}

export function checkSameShape(where: string, a: ImageArray, b: ImageArray): void {
  for (const key of ['width', 'height', 'channels'] as const) {
    if ((a[key] ?? 1) !== (b[key] ?? 1))
      fail(where, `b.${key}`, `must equal a.${key} (${a[key] ?? 1}), got ${b[key] ?? 1}`);
  }
}
