/**
 * @file GGUF Q6_K decoder (ggml-org/llama.cpp ggml/src/ggml-common.h `block_q6_K`, ggml-quants.c
 * `dequantize_row_q6_K`). A super-block of 256 weights takes 210 bytes:
 *   bytes 0-127: ql[128] (low 4 bits), 128-191: qh[64] (high 2 bits), 192-207: scales[16] (int8),
 *   208-209: d (f16).
 * For each half h < 2 (128 weights; ql += 64h, qh += 32h, sc = scales + 8h) and l < 32, is = l / 16:
 *   q1 = (ql[l]      & 0xF) | (((qh[l] >> 0) & 3) << 4),   w[128h + l]      = d * sc[is + 0] * (q1 - 32)
 *   q2 = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4),   w[128h + l + 32] = d * sc[is + 2] * (q2 - 32)
 *   q3 = (ql[l]      >> 4)  | (((qh[l] >> 4) & 3) << 4),   w[128h + l + 64] = d * sc[is + 4] * (q3 - 32)
 *   q4 = (ql[l + 32] >> 4)  | (((qh[l] >> 6) & 3) << 4),   w[128h + l + 96] = d * sc[is + 6] * (q4 - 32)
 * A row of K weights (K % 256 == 0) is K / 256 consecutive super-blocks.
 */
import { GGUF_BLOCK, halfAt, type QuantizedWeight } from './quantized-weight';

const { elements: QK_K, bytes: BLOCK } = GGUF_BLOCK.q6_k;

/** Decode one Q6_K super-block at byte `o` of `b` into out[at .. at + 256). */
export function decodeQ6_KBlock(b: Uint8Array, o: number, out: Float64Array, at: number): void {
  const d = halfAt(b, o + 208);
  const sc = (i: number) => (b[o + 192 + i] << 24) >> 24; // int8
  for (let h = 0; h < 2; h++) {
    const ql = o + 64 * h;
    const qh = o + 128 + 32 * h;
    const s = 8 * h;
    const y = at + 128 * h;
    for (let l = 0; l < 32; l++) {
      const is = l >> 4;
      const hb = b[qh + l];
      out[y + l] = d * sc(s + is) * (((b[ql + l] & 15) | ((hb & 3) << 4)) - 32);
      out[y + l + 32] = d * sc(s + is + 2) * (((b[ql + l + 32] & 15) | (((hb >> 2) & 3) << 4)) - 32);
      out[y + l + 64] = d * sc(s + is + 4) * (((b[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32);
      out[y + l + 96] = d * sc(s + is + 6) * (((b[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32);
    }
  }
}

/** Row n of a 'q6_k' weight as float64 (dequantize_row_q6_K). */
export function dequantizeQ6_KRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const nb = qw.shape[1] / QK_K;
  for (let i = 0; i < nb; i++) decodeQ6_KBlock(qw.data, (n * nb + i) * BLOCK, out, i * QK_K);
}
