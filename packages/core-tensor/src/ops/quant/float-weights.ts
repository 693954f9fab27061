/**
 * @file 'f16' and 'bf16' weights kept as stored: 2 bytes per weight, little-endian, row-major [N, K].
 * The product converts them inside the kernel; there is no widened f32 copy. f16 is IEEE 754
 * binary16; bf16 is the upper half of an IEEE binary32 (both as in safetensors' F16 / BF16).
 */
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../f16';
import { checkValues, type QuantizedWeight } from './quantized-weight';

/** Round f32/f64 weights [N, K] to f16 or bf16 (nearest, ties to even) as a QuantizedWeight. */
export function toHalfWeight(
  values: ArrayLike<number>,
  shape: readonly [number, number],
  format: 'f16' | 'bf16',
): QuantizedWeight {
  checkValues(`quantize ${format}`, values, shape);
  const bits = new Uint16Array(values.length);
  const conv = format === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < values.length; i++) bits[i] = conv(values[i]);
  return { format, shape: [shape[0], shape[1]], data: new Uint8Array(bits.buffer) };
}

/** Row n of an f16/bf16 weight as float64 (K values). */
export function dequantizeHalfRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const k = qw.shape[1];
  const d = qw.data;
  const conv = qw.format === 'f16' ? f16BitsToF32 : bf16BitsToF32;
  for (let j = 0, o = 2 * n * k; j < k; j++, o += 2) out[j] = conv(d[o] | (d[o + 1] << 8));
}
