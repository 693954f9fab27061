/**
 * @file 'int4-group': 4-bit weights in groups of 32, 64 or 128 consecutive weights along K, one f16
 * scale per group; symmetric (code u = q + 8, q in [-7, 7], w = s (u - 8)) or asymmetric (code u in
 * [0, 15] and a u8 zero point z per group, w = s (u - z)). Quantizer: group-rtn.ts.
 * Layout, G = ceil(K / g) groups per row, each group g / 2 bytes:
 * - data: N rows of G * g / 2 bytes. Inside a group, each run of 32 weights takes 16 bytes, and
 *   byte j of the run holds weight j in its low nibble and weight j + 16 in its high nibble (the
 *   nibble order of GGUF Q4_0, so one 16-byte load gives 32 weights in order after a mask and a
 *   shift). The last group of a row is padded with the zero code (8, or z), which decodes to 0;
 * - scales: N * G f16, little-endian, row-major [N, G];
 * - zeros (asymmetric only): N * G u8 (values 0..15), row-major [N, G].
 */
import { TensorError } from '../../errors';
import { parseOptionsWith } from '../../options';
import { quantizeGroup } from './group-rtn';
import { GroupOptions, type GroupQuantizeOptions } from './int8-group';
import {
  checkValues,
  type GroupSize,
  groupsPerRow,
  halfAt,
  putHalf,
  type QuantizedWeight,
} from './quantized-weight';

/** Byte and nibble shift of weight j (0-based within its row) in a row of int4-group data. */
export function int4Position(j: number): { byte: number; shift: number } {
  const run = Math.floor(j / 32);
  const t = j % 32;
  return { byte: run * 16 + (t % 16), shift: t < 16 ? 0 : 4 };
}

export function quantizeInt4Group(
  values: ArrayLike<number>,
  shape: readonly [number, number],
  options?: GroupQuantizeOptions,
): QuantizedWeight {
  const op = 'quantizeInt4Group';
  const { groupSize: g, symmetric } = parseOptionsWith(GroupOptions, options, (p) => new TensorError(op, p));
  checkValues(op, values, shape);
  const [n, k] = shape;
  const G = groupsPerRow(k, g);
  const rowBytes = (G * g) / 2;
  const data = new Uint8Array(n * rowBytes);
  const scales = new Uint8Array(2 * n * G);
  const zeros = symmetric ? undefined : new Uint8Array(n * G);
  const q = new Int32Array(g);
  for (let r = 0; r < n; r++)
    for (let gi = 0; gi < G; gi++) {
      const k0 = gi * g;
      const k1 = Math.min(k, k0 + g);
      const len = k1 - k0;
      const { scaleBits, zero } = quantizeGroup(values, r * k + k0, len, 4, symmetric, q);
      putHalf(scales, 2 * (r * G + gi), scaleBits);
      if (zeros) zeros[r * G + gi] = zero;
      const zeroCode = symmetric ? 8 : zero;
      for (let j = 0; j < g; j++) {
        const u = j < len ? (symmetric ? q[j] + 8 : q[j]) : zeroCode;
        const t = (k0 + j) & 31; // as int4Position, without an object per weight
        data[r * rowBytes + ((k0 + j) >> 5) * 16 + (t & 15)] |= u << (t < 16 ? 0 : 4);
      }
    }
  return { format: 'int4-group', shape: [n, k], groupSize: g as GroupSize, data, scales, zeros };
}

/** Row n of an 'int4-group' weight as float64 (K values). */
export function dequantizeInt4GroupRow(qw: QuantizedWeight, n: number, out: Float64Array): void {
  const [, k] = qw.shape;
  const g = qw.groupSize as number;
  const G = groupsPerRow(k, g);
  const rowBytes = (G * g) / 2;
  for (let j = 0; j < k; j++) {
    const gi = n * G + Math.floor(j / g);
    const { byte, shift } = int4Position(j);
    const u = (qw.data[n * rowBytes + byte] >> shift) & 15;
    out[j] = halfAt(qw.scales as Uint8Array, 2 * gi) * (u - (qw.zeros ? qw.zeros[gi] : 8));
  }
}
