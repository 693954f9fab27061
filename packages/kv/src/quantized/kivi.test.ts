import { describe, expect, it } from 'vitest';
import { uniforms } from '../testing';
import { dequantize, getCode, type KiviBits, packedBytes, quantize, scaleAt } from './kivi';

// |x − x̂| ≤ scale/2, plus the f32 rounding of x̂ itself.
function expectWithinBound(
  x: Float32Array,
  rows: number,
  cols: number,
  bits: KiviBits,
  G: number,
  axis: 'channel' | 'token',
) {
  const q = quantize(x, rows, cols, bits, G, axis);
  const y = dequantize(q);
  let worst = 0;
  for (let t = 0; t < rows; t++)
    for (let c = 0; c < cols; c++) {
      const i = t * cols + c;
      const s = scaleAt(q, t, c);
      // The bound is tight in real arithmetic; allow for the f32 rounding of x̂ and of scale.
      const bound = s / 2 + 2 ** -23 * (Math.abs(x[i]) + s);
      expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(bound);
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(s, 1e-30));
    }
  return { q, y, worst };
}

describe('KIVI quantizer (reference)', () => {
  for (const bits of [8, 4, 2] as const) {
    for (const axis of ['channel', 'token'] as const) {
      it(`${bits}-bit per-${axis}: error within scale/2 on awkward sizes`, () => {
        const rand = uniforms(100 + bits + (axis === 'token' ? 1 : 0));
        // rows / cols not multiples of G; G larger than the axis; G = 1.
        for (const [rows, cols, G] of [
          [37, 20, 8],
          [5, 13, 32],
          [64, 32, 32],
          [9, 7, 1],
          [0, 4, 4],
        ]) {
          const x = Float32Array.from({ length: rows * cols }, () => rand() * 3 + 0.5);
          const { q, worst } = expectWithinBound(x, rows, cols, bits, G, axis);
          expect(q.codes.byteLength).toBe(packedBytes(rows * cols, bits));
          const groups = axis === 'channel' ? Math.ceil(rows / G) * cols : rows * Math.ceil(cols / G);
          expect(q.scale.length).toBe(groups);
          if (rows > 0) expect(worst).toBeLessThanOrEqual(0.5 + 1e-6);
        }
      });
    }
  }

  it('constant groups have scale 0 and dequantize exactly', () => {
    const x = new Float32Array(6 * 8).fill(Math.fround(-0.3));
    for (let c = 0; c < 8; c++) x[3 * 8 + c] = 1.25; // one different token: channel groups of 2 stay constant
    for (const bits of [8, 4, 2] as const) {
      const k = quantize(x, 6, 8, bits, 2, 'channel');
      const y = dequantize(k);
      // token groups [0, 2) and [4, 6) are constant per channel; [2, 4) is not
      expect(k.scale.filter((s) => s === 0).length).toBe(2 * 8);
      for (const t of [0, 1, 4, 5])
        expect(Array.from(y.subarray(t * 8, t * 8 + 8))).toEqual(Array.from(x.subarray(t * 8, t * 8 + 8)));
      expectWithinBound(x, 6, 8, bits, 2, 'channel');
      const v = quantize(x, 6, 8, bits, 4, 'token');
      expect(Array.from(dequantize(v))).toEqual(Array.from(x));
      expect(Array.from(v.scale).every((s) => s === 0)).toBe(true);
    }
  });

  it('8-bit codes round-trip exactly for values on the grid', () => {
    const rand = uniforms(7);
    const rows = 40;
    const cols = 12;
    const G = 8;
    // Every group holds codes 0 and 255 (so min = -1 and scale = 1/128 exactly) plus random codes.
    const codes = Array.from({ length: rows * cols }, () => Math.floor(((rand() + 1) / 2) * 256));
    for (let g = 0; g < rows / G; g++)
      for (let c = 0; c < cols; c++) {
        codes[g * G * cols + c] = 0;
        codes[(g * G + 1) * cols + c] = 255;
      }
    const x = Float32Array.from(codes, (q) => -1 + q / 128);
    const k = quantize(x, rows, cols, 8, G, 'channel');
    expect(Array.from(dequantize(k))).toEqual(Array.from(x));
    expect(Array.from(k.scale).every((s) => s === 1 / 128)).toBe(true);
    for (let i = 0; i < rows * cols; i++) expect(getCode(k.codes, i, 8)).toBe(codes[i]);
  });

  it('packs 4- and 2-bit codes into bytes', () => {
    const x = Float32Array.from([0, 1, 2, 3, 3, 2, 1, 0, 0, 3]);
    const q = quantize(x, 1, 10, 2, 16, 'token');
    expect(q.codes.byteLength).toBe(3);
    expect(Array.from({ length: 10 }, (_, i) => getCode(q.codes, i, 2))).toEqual([
      0, 1, 2, 3, 3, 2, 1, 0, 0, 3,
    ]);
    const q4 = quantize(
      Float32Array.from({ length: 16 }, (_, i) => i),
      16,
      1,
      4,
      16,
      'channel',
    );
    expect(q4.codes.byteLength).toBe(8);
    expect(Array.from(dequantize(q4))).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('rejects bad arguments', () => {
    expect(() => quantize([1], 1, 1, 3 as KiviBits, 4, 'token')).toThrow(/bits must be 8, 4 or 2/);
    expect(() => quantize([1], 1, 1, 4, 0, 'token')).toThrow(/groupSize/);
  });
});
