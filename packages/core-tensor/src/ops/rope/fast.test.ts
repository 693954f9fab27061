/**
 * The fast f32 RoPE ('cpu') against the reference kernel ('reference') on fresh seeded inputs: every
 * layout of x (heads views included), positions [S], [1, S] and per-batch [B, S] (also strided),
 * partial rotary dims, interleaved pairing and scaled frequencies. Both compute the same float64
 * expressions and round once, so the results must be equal bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { rope } from '../../index';
import { sizeOf } from '../../shape';
import { makeTensor, mulberry32, randint, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectCpuKernel, FAST_LAYOUTS, onBoth, rawOnBoth } from '../fast-testing';
import { ropeFast } from './fast';
import type { RopeOptions } from './rope';

const rng = mulberry32(4242);

describe('rope fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('rope', ropeFast));

  it('equals the reference bit for bit', async () => {
    const options: RopeOptions[] = [
      { theta: 10000 },
      { theta: 500000, rotaryDim: 4 },
      { theta: 10000, interleaved: true },
      { theta: 10000, rotaryDim: 6, interleaved: true, scaling: { type: 'linear', factor: 4 } },
      {
        theta: 500000,
        scaling: {
          type: 'llama3',
          factor: 8,
          lowFreqFactor: 1,
          highFreqFactor: 4,
          originalMaxPositionEmbeddings: 64,
        },
      },
    ];
    let n = 0;
    for (const [B, H, S, D] of [
      [1, 4, 1, 8],
      [2, 3, 5, 8],
      [2, 2, 4, 10],
    ]) {
      for (const o of options) {
        const layout = FAST_LAYOUTS[n % FAST_LAYOUTS.length];
        const x = onBoth(randn(rng, B * H * S * D), [B, H, S, D], 'f32', layout);
        const kind = n % 4;
        const pshape = kind === 0 ? [S] : kind === 1 ? [1, S] : [B, S];
        const pv = randint(rng, sizeOf(pshape), 0, 5000);
        const p =
          kind === 3 // strided positions
            ? {
                cpu: makeTensor(pv, pshape, 'i32', 'strided', 'cpu'),
                ref: makeTensor(pv, pshape, 'i32', 'strided', 'reference'),
              }
            : rawOnBoth(pv, pshape, 'i32');
        expect(
          await bitMismatch(rope(x.cpu, p.cpu, o), rope(x.ref, p.ref, o)),
          `[${B}, ${H}, ${S}, ${D}] ${layout} positions [${pshape}] ${JSON.stringify(o)}`,
        ).toBeNull();
        n++;
      }
    }
  });

  it('f16 and bf16 go to the reference kernel', async () => {
    for (const dtype of ['f16', 'bf16'] as const) {
      const x = onBoth(roundTo(randn(rng, 2 * 2 * 3 * 8), dtype), [2, 2, 3, 8], dtype, 'heads');
      const p = rawOnBoth([3, 4, 5, 9, 10, 11], [2, 3], 'i32');
      expect(
        await bitMismatch(rope(x.cpu, p.cpu, { theta: 1e4 }), rope(x.ref, p.ref, { theta: 1e4 })),
        dtype,
      ).toBeNull();
    }
  });
});
