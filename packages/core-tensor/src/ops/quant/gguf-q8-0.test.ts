import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { decodeQ8_0Block, quantizeQ8_0 } from './gguf-q8-0';

describe('GGUF Q8_0', () => {
  it('decodes a hand-made block: d = 0.5 (f16 0x3800), qs = 1, -2, 127, -128, 0, ...', () => {
    const b = new Uint8Array(34);
    b.set([0x00, 0x38, 1, 0xfe, 127, 0x80]);
    const out = new Float64Array(32);
    decodeQ8_0Block(b, 0, out, 0);
    expect(Array.from(out.subarray(0, 5))).toEqual([0.5, -1, 63.5, -64, 0]);
    expect(out.subarray(5).every((v) => v === 0)).toBe(true);
  });

  it('round to nearest: every weight is within d / 2 of its decoded value', () => {
    const rng = mulberry32(801);
    const [n, k] = [5, 96];
    const w = randn(rng, n * k, 0.3);
    const qw = quantizeQ8_0(w, [n, k]);
    expect(qw.data.length).toBe(n * 3 * 34);
    const back = dequantize(qw);
    for (let b = 0; b < n * 3; b++) {
      const d = f16BitsToF32(qw.data[34 * b] | (qw.data[34 * b + 1] << 8));
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[32 * b + j]));
      expect(d).toBeGreaterThanOrEqual(amax / 127);
      expect(d).toBeLessThan((amax / 127) * (1 + 2 ** -9));
      for (let j = 0; j < 32; j++)
        expect(Math.abs(back[32 * b + j] - w[32 * b + j])).toBeLessThanOrEqual(d / 2);
    }
  });

  it('rejects K that is not a multiple of 32, and non-finite weights', () => {
    expect(() => quantizeQ8_0(new Float64Array(40), [1, 40])).toThrow(
      /K = 40 must be a multiple of the Q8_0 block size 32/,
    );
    expect(() => quantizeQ8_0([Number.NaN, ...new Array(31).fill(0)], [1, 32])).toThrow(/value 0 is NaN/);
  });
});
