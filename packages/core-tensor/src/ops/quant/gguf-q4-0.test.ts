import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { decodeQ4_0Block, quantizeQ4_0 } from './gguf-q4-0';

describe('GGUF Q4_0', () => {
  it('decodes a hand-made block: d = 2 (f16 0x4000), qs[0] = 0x3A, the other bytes 0x88', () => {
    const b = new Uint8Array(18).fill(0x88);
    b.set([0x00, 0x40, 0x3a]);
    const out = new Float64Array(32);
    decodeQ4_0Block(b, 0, out, 0);
    // weight 0: low nibble 10 -> (10 - 8) * 2 = 4; weight 16: high nibble 3 -> (3 - 8) * 2 = -10.
    const want = new Array(32).fill(0);
    want[0] = 4;
    want[16] = -10;
    expect(Array.from(out)).toEqual(want);
  });

  it('round to nearest as ggml: the largest weight maps to code 0, errors within |d| / 2 (|d| at the clamped end)', () => {
    const rng = mulberry32(802);
    const [n, k] = [4, 128];
    const w = randn(rng, n * k);
    const qw = quantizeQ4_0(w, [n, k]);
    const back = dequantize(qw);
    for (let b = 0; b < n * 4; b++) {
      const d = f16BitsToF32(qw.data[18 * b] | (qw.data[18 * b + 1] << 8));
      let m = 0;
      for (let j = 0; j < 32; j++) if (Math.abs(w[32 * b + j]) > Math.abs(m)) m = w[32 * b + j];
      expect(Math.sign(d)).toBe(-Math.sign(m)); // d = m / -8
      expect(Math.abs(d)).toBeGreaterThanOrEqual(Math.abs(m) / 8);
      for (let j = 0; j < 32; j++) {
        const x = w[32 * b + j];
        const bound = x / d > 7.5 ? Math.abs(d) : Math.abs(d) / 2;
        expect(Math.abs(back[32 * b + j] - x)).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('rejects K that is not a multiple of 32', () => {
    expect(() => quantizeQ4_0(new Float64Array(48), [1, 48])).toThrow(
      /K = 48 must be a multiple of the Q4_0 block size 32/,
    );
  });
});
