/**
 * @file Packing strided f32 operands into the layouts the WebAssembly GEMM reads (wasm/gemm.ts):
 * - A [m, k] -> groups of 4 rows interleaved by k ([k][4] each), then the m % 4 remaining rows
 *   interleaved the same way ([k][m % 4]): one broadcast load per row and k, at a constant offset.
 * - B [k, n] -> K-blocks of KC rows; inside each, 8-column panels of [kc][8], zero-padded past n.
 * Both read any strides (transposed views, broadcast batches); the loop order follows the operand's
 * unit stride so the reads are sequential.
 */
import { KC } from './gemm-runtime';

/** n rounded up to a whole number of 8-column panels. */
export const padN = (n: number) => Math.ceil(n / 8) * 8;

/** Floats of packed A. */
export const packedASize = (m: number, k: number) => m * k;
/** Floats of packed B. */
export const packedBSize = (k: number, n: number) => k * padN(n);

/** Pack A (element [i, q] at src[off + i*sm + q*sk]) into dst from float index d0. */
export function packA(
  src: Float32Array,
  off: number,
  sm: number,
  sk: number,
  m: number,
  k: number,
  dst: Float32Array,
  d0: number,
): void {
  const groups = m >> 2;
  const rest = m & 3;
  // Groups of 4 rows: [k][4] written in order, the 4 rows read side by side.
  for (let g = 0; g < groups; g++) {
    const r0 = off + 4 * g * sm;
    const r1 = r0 + sm;
    const r2 = r1 + sm;
    const r3 = r2 + sm;
    let d = d0 + g * k * 4;
    for (let q = 0, s = 0; q < k; q++, s += sk, d += 4) {
      dst[d] = src[r0 + s];
      dst[d + 1] = src[r1 + s];
      dst[d + 2] = src[r2 + s];
      dst[d + 3] = src[r3 + s];
    }
  }
  // The m % 4 remaining rows, interleaved the same way: [k][rest].
  const base = d0 + groups * k * 4;
  for (let i = 0; i < rest; i++) {
    const row = off + (groups * 4 + i) * sm;
    for (let q = 0; q < k; q++) dst[base + q * rest + i] = src[row + q * sk];
  }
}

/** Pack B (element [q, j] at src[off + q*sk + j*sn]) into dst from float index d0. */
export function packB(
  src: Float32Array,
  off: number,
  sk: number,
  sn: number,
  k: number,
  n: number,
  dst: Float32Array,
  d0: number,
): void {
  const npad = padN(n);
  const byColumn = sk === 1 && sn !== 1; // a transposed weight: each column of B is contiguous
  for (let kb = 0; kb < k; kb += KC) {
    const kc = Math.min(KC, k - kb);
    for (let p = 0; p < npad >> 3; p++) {
      const base = d0 + kb * npad + p * kc * 8;
      const width = Math.min(8, n - p * 8);
      if (width < 8) for (let q = 0; q < kc; q++) dst.fill(0, base + q * 8 + width, base + q * 8 + 8);
      if (byColumn) {
        for (let j = 0; j < width; j++) {
          const col = off + (p * 8 + j) * sn + kb;
          for (let q = 0; q < kc; q++) dst[base + q * 8 + j] = src[col + q];
        }
      } else {
        for (let q = 0; q < kc; q++) {
          const row = off + (kb + q) * sk + p * 8 * sn;
          const d = base + q * 8;
          for (let j = 0; j < width; j++) dst[d + j] = src[row + j * sn];
        }
      }
    }
  }
}
