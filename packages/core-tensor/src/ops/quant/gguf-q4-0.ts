/**
 * @file GGUF Q4_0 (ggml-org/llama.cpp ggml/src/ggml-common.h `block_q4_0`, ggml-quants.c
 * `quantize_row_q4_0_ref` / `dequantize_row_q4_0`): blocks of 32 weights along K, 18 bytes each:
 *   bytes 0-1: d, f16 little-endian;  bytes 2-17: qs[16];
 *   w[j] = d * ((qs[j] & 0xF) - 8),  w[j + 16] = d * ((qs[j] >> 4) - 8),  j < 16.
 * Quantizer (as ggml's reference): m = the weight of largest magnitude (with its sign), d = m / -8,
 * q = min(15, round(w / d) + 8). Here |d| is stored as the smallest f16 >= |m| / 8, so m maps to
 * code 0 exactly and every weight is within |d| / 2 of its decoded value except the ones of the
 * sign opposite to m beyond 7.5 |d|, which clamp to code 15 and are within |d|.
 */

import { TensorError } from '../../errors';
import { f16BitsToF32 } from '../../f16';
import {
  checkValues,
  GGUF_BLOCK,
  halfAt,
  halfScaleAtLeast,
  putHalf,
  type QuantizedWeight,
} from './quantized-weight';

const { elements: QK, bytes: BLOCK } = GGUF_BLOCK.q4_0;

/** Decode one Q4_0 block at byte `o` of `b` into out[at .. at + 32). */
export function decodeQ4_0Block(b: Uint8Array, o: number, out: Float64Array, at: number): void {
  const d = halfAt(b, o);
  for (let j = 0; j < 16; j++) {
    out[at + j] = d * ((b[o + 2 + j] & 15) - 8);
    out[at + j + 16] = d * ((b[o + 2 + j] >> 4) - 8);
  }
}

/** Row n of a 'q4_0' weight as float64 (dequantize_row_q4_0). */
export function dequantizeQ4_0Row(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const nb = qw.shape[1] / QK;
  for (let i = 0; i < nb; i++) decodeQ4_0Block(qw.data, (n * nb + i) * BLOCK, out, i * QK);
}

export function quantizeQ4_0(values: ArrayLike<number>, shape: readonly [number, number]): QuantizedWeight {
  const op = 'quantizeQ4_0';
  checkValues(op, values, shape);
  const [n, k] = shape;
  if (k % QK) throw new TensorError(op, `K = ${k} must be a multiple of the Q4_0 block size ${QK}`);
  const nb = k / QK;
  const data = new Uint8Array(n * nb * BLOCK);
  for (let b = 0; b < n * nb; b++) {
    let m = 0;
    for (let j = 0; j < QK; j++) if (Math.abs(values[b * QK + j]) > Math.abs(m)) m = values[b * QK + j];
    const h = halfScaleAtLeast(Math.abs(m) / 8) | (m > 0 ? 0x8000 : 0); // d = m / -8: sign opposite to m
    const d = f16BitsToF32(h);
    putHalf(data, b * BLOCK, h);
    for (let j = 0; j < QK; j++) {
      const u = d !== 0 ? Math.min(15, Math.max(0, Math.round(values[b * QK + j] / d) + 8)) : 8;
      data[b * BLOCK + 2 + (j % 16)] |= u << (j < 16 ? 0 : 4);
    }
  }
  return { format: 'q4_0', shape: [n, k], data };
}
