import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { quantizeInt8PerChannel } from './int8-per-channel';

describe('int8 per output channel', () => {
  const rng = mulberry32(811);

  for (const scaleDtype of ['f16', 'f32'] as const) {
    it(`round to nearest with ${scaleDtype} scales: |w - w'| <= scale / 2, codes within [-127, 127]`, () => {
      const [n, k] = [7, 53];
      const w = randn(rng, n * k, 0.05);
      for (let j = 0; j < k; j++) w[3 * k + j] = 0; // an all-zero row
      const qw = quantizeInt8PerChannel(w, [n, k], { scaleDtype });
      const back = dequantize(qw);
      const dv = new DataView(qw.scales?.buffer as ArrayBuffer);
      for (let r = 0; r < n; r++) {
        const s =
          scaleDtype === 'f32'
            ? dv.getFloat32(4 * r, true)
            : f16BitsToF32((qw.scales as Uint8Array)[2 * r] | ((qw.scales as Uint8Array)[2 * r + 1] << 8));
        let amax = 0;
        for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(w[r * k + j]));
        expect(s).toBeGreaterThanOrEqual(amax / 127);
        for (let j = 0; j < k; j++) {
          const q = (qw.data[r * k + j] << 24) >> 24;
          expect(Math.abs(q)).toBeLessThanOrEqual(127);
          expect(Math.abs(back[r * k + j] - w[r * k + j])).toBeLessThanOrEqual(s / 2);
        }
      }
      expect(back.subarray(3 * k, 4 * k).every((v) => v === 0)).toBe(true);
    });
  }

  it('decodes hand-made bytes: scale 0.25 (f16 0x3400), codes 4, -8, 127', () => {
    const qw = {
      format: 'int8' as const,
      shape: [1, 3] as [number, number],
      data: new Uint8Array([4, 0xf8, 127]),
      scales: new Uint8Array([0x00, 0x34]),
    };
    expect(Array.from(dequantize(qw))).toEqual([1, -2, 31.75]);
  });

  it('rejects unknown options and bad values, naming them', () => {
    expect(() => quantizeInt8PerChannel([1, 2], [1, 2], { scaleDtype: 'f64' as 'f16' })).toThrow(
      /scaleDtype/,
    );
    expect(() => quantizeInt8PerChannel([1, 2], [1, 2], { bits: 8 } as object)).toThrow(
      /"bits".*allowed: scaleDtype/,
    );
    expect(() => quantizeInt8PerChannel([1, 2, 3], [1, 2])).toThrow(/got 3 values for shape \[1, 2\]/);
    expect(() => quantizeInt8PerChannel([1, 1e6], [1, 2])).toThrow(/value 1 is 1000000.*f16 range/);
  });
});
