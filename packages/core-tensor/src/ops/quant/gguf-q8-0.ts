/**
 * @file GGUF Q8_0 (ggml-org/llama.cpp ggml/src/ggml-common.h `block_q8_0`, ggml-quants.c
 * `quantize_row_q8_0_ref` / `dequantize_row_q8_0`): blocks of 32 weights along K, 34 bytes each:
 *   bytes 0-1: d, f16 little-endian;  bytes 2-33: qs[32], int8;   w[j] = d * qs[j].
 * A row of K weights (K % 32 == 0) is K / 32 consecutive blocks; rows follow each other.
 * Quantizer (round to nearest, as ggml): d = max|w| / 127, qs = round(w / d); here d is stored as the
 * smallest f16 >= max|w| / 127 (ggml rounds it to nearest), so |w - w'| <= d / 2 for every element.
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

const { elements: QK, bytes: BLOCK } = GGUF_BLOCK.q8_0;

/** Decode one Q8_0 block at byte `o` of `b` into out[at .. at + 32). */
export function decodeQ8_0Block(b: Uint8Array, o: number, out: Float64Array, at: number): void {
  const d = halfAt(b, o);
  for (let j = 0; j < QK; j++) out[at + j] = d * ((b[o + 2 + j] << 24) >> 24);
}

/** Row n of a 'q8_0' weight as float64 (dequantize_row_q8_0). */
export function dequantizeQ8_0Row(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const nb = qw.shape[1] / QK;
  for (let i = 0; i < nb; i++) decodeQ8_0Block(qw.data, (n * nb + i) * BLOCK, out, i * QK);
}

export function quantizeQ8_0(values: ArrayLike<number>, shape: readonly [number, number]): QuantizedWeight {
  const op = 'quantizeQ8_0';
  checkValues(op, values, shape);
  const [n, k] = shape;
  if (k % QK) throw new TensorError(op, `K = ${k} must be a multiple of the Q8_0 block size ${QK}`);
  const nb = k / QK;
  const data = new Uint8Array(n * nb * BLOCK);
  for (let b = 0; b < n * nb; b++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(values[b * QK + j]));
    const h = halfScaleAtLeast(amax / 127);
    const d = f16BitsToF32(h);
    putHalf(data, b * BLOCK, h);
    for (let j = 0; j < QK; j++)
      data[b * BLOCK + 2 + j] = (d > 0 ? Math.round(values[b * QK + j] / d) : 0) & 0xff;
  }
  return { format: 'q8_0', shape: [n, k], data };
}
