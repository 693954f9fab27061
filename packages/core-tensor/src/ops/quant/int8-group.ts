/**
 * @file 'int8-group': int8 weights in groups of 32, 64 or 128 consecutive weights along K, one f16
 * scale per group; symmetric (int8 q, w = s q) or asymmetric (u8 q and a u8 zero point per group,
 * w = s (q - z)). Quantizer: group-rtn.ts (round to nearest).
 * Layout, G = ceil(K / g) groups per row:
 * - data: N rows of G * g bytes (row-major; the last group of a row is padded with the zero point,
 *   so padded weights decode to 0): int8 when symmetric, u8 when asymmetric;
 * - scales: N * G f16, little-endian, row-major [N, G];
 * - zeros (asymmetric only): N * G u8, row-major [N, G].
 */
import { z } from 'zod';
import { TensorError } from '../../errors';
import { parseOptionsWith } from '../../options';
import { quantizeGroup } from './group-rtn';
import {
  checkValues,
  type GroupSize,
  groupsPerRow,
  halfAt,
  putHalf,
  type QuantizedWeight,
} from './quantized-weight';

export const GroupOptions = z.strictObject({
  groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).default(32),
  symmetric: z.boolean().default(true),
});
export type GroupQuantizeOptions = z.input<typeof GroupOptions>;

export function quantizeInt8Group(
  values: ArrayLike<number>,
  shape: readonly [number, number],
  options?: GroupQuantizeOptions,
): QuantizedWeight {
  const op = 'quantizeInt8Group';
  const { groupSize: g, symmetric } = parseOptionsWith(GroupOptions, options, (p) => new TensorError(op, p));
  checkValues(op, values, shape);
  const [n, k] = shape;
  const G = groupsPerRow(k, g);
  const data = new Uint8Array(n * G * g);
  const scales = new Uint8Array(2 * n * G);
  const zeros = symmetric ? undefined : new Uint8Array(n * G);
  const q = new Int32Array(g);
  for (let r = 0; r < n; r++)
    for (let gi = 0; gi < G; gi++) {
      const k0 = gi * g;
      const k1 = Math.min(k, k0 + g);
      const len = k1 - k0;
      const { scaleBits, zero } = quantizeGroup(values, r * k + k0, len, 8, symmetric, q);
      putHalf(scales, 2 * (r * G + gi), scaleBits);
      if (zeros) zeros[r * G + gi] = zero;
      const base = (r * G + gi) * g;
      for (let j = 0; j < g; j++) data[base + j] = (j < len ? q[j] : zero) & 0xff;
    }
  return { format: 'int8-group', shape: [n, k], groupSize: g as GroupSize, data, scales, zeros };
}

/** Row n of an 'int8-group' weight as float64 (K values). */
export function dequantizeInt8GroupRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const [, k] = qw.shape;
  const g = qw.groupSize as number;
  const G = groupsPerRow(k, g);
  const d = qw.data;
  for (let j = 0; j < k; j++) {
    const gi = n * G + Math.floor(j / g);
    const s = halfAt(qw.scales as Uint8Array, 2 * gi);
    const byte = d[n * G * g + j];
    out[j] = qw.zeros ? s * (byte - qw.zeros[gi]) : s * ((byte << 24) >> 24); // int8 when symmetric
  }
}
