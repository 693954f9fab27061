/**
 * @file Round-to-nearest quantization of one group of weights to b-bit integers with an f16 scale,
 * symmetric or asymmetric (the scheme of GPTQ/AWQ checkpoints' RTN baseline, arXiv:2210.17323 §2,
 * and of ORT MatMulNBits / transformers.js q4 weights):
 * - symmetric: s = max|w| / qmax (qmax = 2^(b-1) - 1), q = round(w / s) in [-qmax, qmax], w' = s q;
 * - asymmetric: [lo, hi] = [min(0, min w), max(0, max w)], s = (hi - lo) / (2^b - 1),
 *   z = round(-lo / s), q = clamp(round(w / s) + z, 0, 2^b - 1), w' = s (q - z).
 * s is stored as the smallest f16 >= the exact scale, so |w - w'| <= s / 2 for every element
 * (the clamp only ever moves a value by at most half a step: see the bound in the README).
 */
import { f16BitsToF32 } from '../../f16';
import { halfScaleAtLeast } from './quantized-weight';

export interface GroupCodes {
  /** f16 bit pattern of the scale. */
  scaleBits: number;
  /** Zero point (asymmetric; 0 for symmetric). */
  zero: number;
}

/**
 * Quantize values[at .. at + len) to codes q[0 .. len): signed q (symmetric) or unsigned q
 * (asymmetric). Returns the scale's f16 bits and the zero point.
 */
export function quantizeGroup(
  values: ArrayLike<number>,
  at: number,
  len: number,
  bits: 4 | 8,
  symmetric: boolean,
  q: Int32Array,
): GroupCodes {
  if (symmetric) {
    const qmax = 2 ** (bits - 1) - 1;
    let amax = 0;
    for (let i = 0; i < len; i++) amax = Math.max(amax, Math.abs(values[at + i]));
    const scaleBits = halfScaleAtLeast(amax / qmax);
    const s = f16BitsToF32(scaleBits);
    for (let i = 0; i < len; i++) q[i] = s > 0 ? Math.round(values[at + i] / s) : 0;
    return { scaleBits, zero: 0 };
  }
  const levels = 2 ** bits - 1;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < len; i++) {
    lo = Math.min(lo, values[at + i]);
    hi = Math.max(hi, values[at + i]);
  }
  const scaleBits = halfScaleAtLeast((hi - lo) / levels);
  const s = f16BitsToF32(scaleBits);
  if (s === 0) {
    q.fill(0, 0, len);
    return { scaleBits, zero: 0 };
  }
  const zero = Math.min(levels, Math.max(0, Math.round(-lo / s)));
  for (let i = 0; i < len; i++) q[i] = Math.min(levels, Math.max(0, Math.round(values[at + i] / s) + zero));
  return { scaleBits, zero };
}
