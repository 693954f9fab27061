/**
 * @file Row n of any QuantizedWeight as float64 (K values): the per-format decoders, one place.
 * Used by the reference product (reference.ts) and by `dequantize` for tests and model export.
 */
import { dequantizeHalfRow } from './float-weights';
import { dequantizeQ4_0Row } from './gguf-q4-0';
import { dequantizeQ4_KRow } from './gguf-q4-k';
import { dequantizeQ6_KRow } from './gguf-q6-k';
import { dequantizeQ8_0Row } from './gguf-q8-0';
import { dequantizeInt4GroupRow } from './int4-group';
import { dequantizeInt8GroupRow } from './int8-group';
import { dequantizeInt8PerChannelRow } from './int8-per-channel';
import { type QuantFormat, type QuantizedWeight, validateQuantizedWeight } from './quantized-weight';

const ROW: Record<QuantFormat, (qw: QuantizedWeight, n: number, out: Float64Array) => void> = {
  f16: dequantizeHalfRow,
  bf16: dequantizeHalfRow,
  int8: dequantizeInt8PerChannelRow,
  'int8-group': dequantizeInt8GroupRow,
  'int4-group': dequantizeInt4GroupRow,
  q8_0: dequantizeQ8_0Row,
  q4_0: dequantizeQ4_0Row,
  q4_k: dequantizeQ4_KRow,
  q6_k: dequantizeQ6_KRow,
};

export function dequantizeRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  ROW[qw.format](qw, n, out);
}

/** The whole weight as float64, row-major [N, K] (validates it first). */
export function dequantize(qw: QuantizedWeight): Float64Array {
  validateQuantizedWeight('dequantize', qw);
  const [n, k] = qw.shape;
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) dequantizeRow(qw, r, out.subarray(r * k, (r + 1) * k));
  return out;
}
