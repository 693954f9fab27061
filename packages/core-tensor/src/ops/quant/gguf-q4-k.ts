/**
 * @file GGUF Q4_K decoder (ggml-org/llama.cpp ggml/src/ggml-common.h `block_q4_K`, ggml-quants.c
 * `dequantize_row_q4_K` and `get_scale_min_k4`). A super-block of 256 weights takes 144 bytes:
 *   bytes 0-1: d (f16), bytes 2-3: dmin (f16), bytes 4-15: scales[12], bytes 16-143: qs[128].
 * The 8 sub-blocks of 32 weights each have a 6-bit scale sc[i] and 6-bit min mn[i] packed in scales[]:
 *   i < 4:  sc = scales[i] & 63,  mn = scales[i + 4] & 63;
 *   i >= 4: sc = (scales[i + 4] & 0xF) | ((scales[i - 4] >> 6) << 4),
 *           mn = (scales[i + 4] >> 4)  | ((scales[i]     >> 6) << 4).
 * Weights: for each chunk c < 4 of 64 weights (32 bytes qs[32c .. 32c + 32)):
 *   w[64c + l]      = d * sc[2c]     * (qs[32c + l] & 0xF) - dmin * mn[2c],
 *   w[64c + 32 + l] = d * sc[2c + 1] * (qs[32c + l] >> 4)  - dmin * mn[2c + 1],   l < 32.
 * A row of K weights (K % 256 == 0) is K / 256 consecutive super-blocks.
 */
import { GGUF_BLOCK, halfAt, type QuantizedWeight } from './quantized-weight';

const { elements: QK_K, bytes: BLOCK } = GGUF_BLOCK.q4_k;

/** The 6-bit scale and min of sub-block i (< 8) from the 12 packed bytes at byte `o` of `b`. */
export function q4kScaleMin(b: Uint8Array, o: number, i: number): { sc: number; mn: number } {
  if (i < 4) return { sc: b[o + i] & 63, mn: b[o + i + 4] & 63 };
  return {
    sc: (b[o + i + 4] & 0xf) | ((b[o + i - 4] >> 6) << 4),
    mn: (b[o + i + 4] >> 4) | ((b[o + i] >> 6) << 4),
  };
}

/** Decode one Q4_K super-block at byte `o` of `b` into out[at .. at + 256). */
export function decodeQ4_KBlock(b: Uint8Array, o: number, out: Float64Array, at: number): void {
  const d = halfAt(b, o);
  const dmin = halfAt(b, o + 2);
  for (let c = 0; c < 4; c++) {
    const lo = q4kScaleMin(b, o + 4, 2 * c);
    const hi = q4kScaleMin(b, o + 4, 2 * c + 1);
    for (let l = 0; l < 32; l++) {
      const q = b[o + 16 + 32 * c + l];
      out[at + 64 * c + l] = d * lo.sc * (q & 15) - dmin * lo.mn;
      out[at + 64 * c + 32 + l] = d * hi.sc * (q >> 4) - dmin * hi.mn;
    }
  }
}

/** Row n of a 'q4_k' weight as float64 (dequantize_row_q4_K). */
export function dequantizeQ4_KRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const nb = qw.shape[1] / QK_K;
  for (let i = 0; i < nb; i++) decodeQ4_KBlock(qw.data, (n * nb + i) * BLOCK, out, i * QK_K);
}
