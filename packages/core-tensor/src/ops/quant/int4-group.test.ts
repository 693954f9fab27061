import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { int4Position, quantizeInt4Group } from './int4-group';

const half = (b: Uint8Array, i: number) => f16BitsToF32(b[2 * i] | (b[2 * i + 1] << 8));

describe('int4 in groups along K', () => {
  const rng = mulberry32(813);

  it('places weight j of a row at byte 16 * floor(j / 32) + j % 16, low nibble when j % 32 < 16', () => {
    expect(int4Position(0)).toEqual({ byte: 0, shift: 0 });
    expect(int4Position(15)).toEqual({ byte: 15, shift: 0 });
    expect(int4Position(16)).toEqual({ byte: 0, shift: 4 });
    expect(int4Position(33)).toEqual({ byte: 17, shift: 0 });
    expect(int4Position(63)).toEqual({ byte: 31, shift: 4 });
  });

  for (const groupSize of [32, 64, 128] as const)
    for (const symmetric of [true, false]) {
      it(`group ${groupSize}, ${symmetric ? 'symmetric' : 'asymmetric'}: |w - w'| <= scale / 2, K not a multiple of the group`, () => {
        const [n, k] = [5, groupSize + 45];
        const w = randn(rng, n * k);
        if (!symmetric) for (let i = 0; i < n * k; i++) w[i] = Math.abs(w[i]) - 0.3;
        const qw = quantizeInt4Group(w, [n, k], { groupSize, symmetric });
        const G = Math.ceil(k / groupSize);
        expect(qw.data.length).toBe((n * G * groupSize) / 2);
        const back = dequantize(qw);
        for (let r = 0; r < n; r++)
          for (let j = 0; j < k; j++) {
            const gi = r * G + Math.floor(j / groupSize);
            const s = half(qw.scales as Uint8Array, gi);
            expect(Math.abs(back[r * k + j] - w[r * k + j])).toBeLessThanOrEqual(s / 2);
            if (!symmetric) expect((qw.zeros as Uint8Array)[gi]).toBeLessThanOrEqual(15);
          }
      });
    }

  it('decodes hand-made symmetric bytes: scale 2 (f16 0x4000), byte 0 = 0x3A', () => {
    const data = new Uint8Array(16).fill(0x88);
    data[0] = 0x3a; // weight 0: 10 - 8 = 2, weight 16: 3 - 8 = -5
    const qw = {
      format: 'int4-group' as const,
      shape: [1, 20] as [number, number],
      groupSize: 32 as const,
      data,
      scales: new Uint8Array([0x00, 0x40]),
    };
    const want = new Array(20).fill(0);
    want[0] = 4;
    want[16] = -10;
    expect(Array.from(dequantize(qw))).toEqual(want);
  });
});
