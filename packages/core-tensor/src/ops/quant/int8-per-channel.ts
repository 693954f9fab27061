/**
 * @file 'int8': symmetric int8 per output channel (as LLM.int8's vector-wise weight quantization
 * without outliers, arXiv:2208.07339, and transformers.js / ORT's "q8" weights):
 *   scale[n] = max_k |W[n, k]| / 127,   q[n, k] = round(W[n, k] / scale[n]) in [-127, 127],
 *   W'[n, k] = scale[n] * q[n, k].
 * Layout: data = int8 q, row-major [N, K] (K bytes per row, no padding); scales = N values, f16
 * (default) or f32, little-endian. The stored f16 scale is rounded up (halfScaleAtLeast), so no
 * value clamps and |W - W'| <= scale / 2 for every element.
 */
import { z } from 'zod';
import { TensorError } from '../../errors';
import { f16BitsToF32 } from '../../f16';
import { parseOptionsWith } from '../../options';
import { checkValues, halfAt, halfScaleAtLeast, putHalf, type QuantizedWeight } from './quantized-weight';

const Options = z.strictObject({ scaleDtype: z.enum(['f16', 'f32']).default('f16') });
export type Int8PerChannelOptions = z.input<typeof Options>;

export function quantizeInt8PerChannel(
  values: ArrayLike<number>,
  shape: readonly [number, number],
  options?: Int8PerChannelOptions,
): QuantizedWeight {
  const op = 'quantizeInt8PerChannel';
  const { scaleDtype } = parseOptionsWith(Options, options, (p) => new TensorError(op, p));
  checkValues(op, values, shape);
  const [n, k] = shape;
  const data = new Uint8Array(n * k);
  const q = new Int8Array(data.buffer);
  const scales = new Uint8Array(n * (scaleDtype === 'f32' ? 4 : 2));
  const f32s = scaleDtype === 'f32' ? new Float32Array(scales.buffer) : null;
  for (let r = 0; r < n; r++) {
    let amax = 0;
    for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(values[r * k + j]));
    let s: number;
    if (scaleDtype === 'f32') {
      s = Math.fround(amax / 127);
      if (s < amax / 127) s = Math.fround(s * (1 + 2 ** -22));
      (f32s as Float32Array)[r] = s;
    } else {
      const h = halfScaleAtLeast(amax / 127);
      putHalf(scales, 2 * r, h);
      s = f16BitsToF32(h);
    }
    for (let j = 0; j < k; j++) q[r * k + j] = s > 0 ? Math.round(values[r * k + j] / s) : 0;
  }
  return { format: 'int8', shape: [n, k], data, scales, scaleDtype };
}

/** Row n of an 'int8' weight as float64: scale[n] * q[n, k]. */
export function dequantizeInt8PerChannelRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const k = qw.shape[1];
  const sc = qw.scales as Uint8Array;
  const s =
    qw.scaleDtype === 'f32'
      ? new DataView(sc.buffer, sc.byteOffset).getFloat32(4 * n, true)
      : halfAt(sc, 2 * n);
  const q = new Int8Array(qw.data.buffer, qw.data.byteOffset, qw.data.length);
  for (let j = 0; j < k; j++) out[j] = s * q[n * k + j];
}
