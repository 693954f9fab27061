/**
 * The fast strided copy ('cpu', behind `contiguous()` and reshapes of views) against the reference
 * kernel ('reference') for every dtype and layout: raw storage values, equal bit for bit (compared
 * through `raw()`, so f16 patterns and NaN payloads count too).
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randint, randn } from '../../test-utils';
import { expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { copyFast } from './fast';

const rng = mulberry32(8080);

describe('copy fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('copy', copyFast));

  it('copies every dtype and layout bit for bit', async () => {
    let n = 0;
    for (const dtype of ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8', 'bool'] as DType[]) {
      for (const shape of [[5, 40], [2, 3, 4, 20], [2, 1, 3, 5], [7], []]) {
        const layout = FAST_LAYOUTS[n++ % (shape.length === 4 && dtype !== 'bool' ? 5 : 3)];
        const size = sizeOf(shape);
        const v =
          dtype === 'bool'
            ? randint(rng, size, 0, 2)
            : dtype.startsWith('f') || dtype === 'bf16'
              ? randn(rng, size)
              : randint(rng, size, -100, 100);
        const x = onBoth(v, shape, dtype, layout);
        const [a, b] = [x.cpu.contiguous(), x.ref.contiguous()];
        expect(a.isContiguous()).toBe(true);
        expect(Array.from(await a.raw()), `${dtype} [${shape}] ${layout}`).toEqual(Array.from(await b.raw()));
        const flat = [x.cpu.reshape([-1]), x.ref.reshape([-1])];
        expect(Array.from(await flat[0].raw())).toEqual(Array.from(await flat[1].raw()));
      }
    }
  });
});
