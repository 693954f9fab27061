import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { quantizeInt8Group } from './int8-group';

const half = (b: Uint8Array, i: number) => f16BitsToF32(b[2 * i] | (b[2 * i + 1] << 8));

describe('int8 in groups along K', () => {
  const rng = mulberry32(812);

  for (const groupSize of [32, 64, 128] as const)
    for (const symmetric of [true, false]) {
      it(`group ${groupSize}, ${symmetric ? 'symmetric' : 'asymmetric'}: |w - w'| <= scale / 2, K not a multiple of the group`, () => {
        const [n, k] = [3, groupSize * 2 + 19];
        const w = randn(rng, n * k);
        for (let i = 0; i < n * k; i++) if (!symmetric) w[i] = w[i] * 0.2 + 0.7; // off-centre values
        const qw = quantizeInt8Group(w, [n, k], { groupSize, symmetric });
        const G = Math.ceil(k / groupSize);
        expect(qw.data.length).toBe(n * G * groupSize);
        expect(qw.zeros?.length).toBe(symmetric ? undefined : n * G);
        const back = dequantize(qw);
        for (let r = 0; r < n; r++)
          for (let j = 0; j < k; j++) {
            const s = half(qw.scales as Uint8Array, r * G + Math.floor(j / groupSize));
            expect(Math.abs(back[r * k + j] - w[r * k + j])).toBeLessThanOrEqual(s / 2);
          }
        // padding past K holds the zero point (decodes to 0)
        const pad = qw.data[G * groupSize - 1];
        expect(pad).toBe(symmetric ? 0 : (qw.zeros as Uint8Array)[G - 1]);
      });
    }

  it('decodes hand-made asymmetric bytes: scale 0.5, zero point 10, codes 10, 14, 0', () => {
    const data = new Uint8Array(32);
    data.set([10, 14, 0]);
    const qw = {
      format: 'int8-group' as const,
      shape: [1, 3] as [number, number],
      groupSize: 32 as const,
      data,
      scales: new Uint8Array([0x00, 0x38]),
      zeros: new Uint8Array([10]),
    };
    expect(Array.from(dequantize(qw))).toEqual([0, 2, -5]);
  });

  it('rejects a group size other than 32, 64, 128', () => {
    expect(() => quantizeInt8Group([1], [1, 1], { groupSize: 16 as 32 })).toThrow(/groupSize/);
  });
});
