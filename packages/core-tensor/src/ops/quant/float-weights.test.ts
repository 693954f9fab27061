import { describe, expect, it } from 'vitest';
import { linear, tensor } from '../../index';
import { mulberry32, randn, roundTo } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { toHalfWeight } from './float-weights';
import { quantLinear } from './quant-linear';

describe('f16 and bf16 weights kept as stored', () => {
  const rng = mulberry32(821);
  for (const format of ['f16', 'bf16'] as const) {
    it(`${format}: decodes to the ${format}-rounded weights, and the product equals linear() on them`, async () => {
      const [n, k] = [5, 13];
      const w = randn(rng, n * k);
      const qw = toHalfWeight(w, [n, k], format);
      expect(Array.from(dequantize(qw))).toEqual(Array.from(roundTo(w, format)));
      const x = randn(rng, 2 * k);
      const y = quantLinear(tensor(x, [2, k], { device: 'reference' }), qw);
      const want = linear(
        tensor(x, [2, k], { device: 'reference' }),
        tensor(roundTo(w, format), [n, k], { device: 'reference' }),
      );
      const [a, b] = [await y.data(), await want.data()];
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    });
  }

  it('decodes hand-made bytes: f16 0x3C00 = 1, 0xC000 = -2; bf16 0x3F80 = 1, 0x4040 = 3', () => {
    expect(
      Array.from(dequantize({ format: 'f16', shape: [1, 2], data: new Uint8Array([0, 0x3c, 0, 0xc0]) })),
    ).toEqual([1, -2]);
    expect(
      Array.from(
        dequantize({ format: 'bf16', shape: [1, 2], data: new Uint8Array([0x80, 0x3f, 0x40, 0x40]) }),
      ),
    ).toEqual([1, 3]);
  });
});
