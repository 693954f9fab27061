/**
 * The fast f32 conv2d ('cpu': im2col + the WebAssembly GEMM) against the reference kernel on fresh
 * random awkward shapes (odd sizes, rectangular kernels, strides 1-3, paddings, 1x1 kernels, batch
 * 1-3, non-contiguous inputs). The fast kernel accumulates in f32 in another order, so each output
 * may differ by the f32 rounding of its sum: |fast − ref| <= 4·K·2^-24·Σ|x·w| + 2^-24·|ref|, with
 * K = C·KH·KW terms and Σ|x·w| = conv2d(|x|, |w|) computed by the reference.
 */
import { describe, expect, it } from 'vitest';
import { abs, conv2d } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randint, randn } from '../../test-utils';
import { expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { conv2dFast } from './fast';

const rng = mulberry32(90_210);
const pick = (lo: number, hi: number) => randint(rng, 1, lo, hi)[0];

describe('conv2d fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('conv2d', conv2dFast));

  it('agrees within the f32 summation bound on random awkward shapes', async () => {
    for (let trial = 0; trial < 14; trial++) {
      const n = pick(1, 4);
      const c = pick(1, 7);
      const o = pick(1, 9);
      const kh = trial % 5 === 0 ? 1 : pick(1, 5);
      const kw = trial % 5 === 0 ? 1 : pick(1, 5);
      const sh = trial % 5 === 0 ? 1 : pick(1, 4);
      const sw = trial % 5 === 0 ? 1 : pick(1, 4);
      const ph = trial % 5 === 0 ? 0 : pick(0, 3);
      const pw = trial % 5 === 0 ? 0 : pick(0, 3);
      const h = kh + pick(0, 12);
      const w = kw + pick(0, 12);
      const xs = [n, c, h, w];
      const ws = [o, c, kh, kw];
      const layout = FAST_LAYOUTS[trial % 3];
      const x = onBoth(randn(rng, sizeOf(xs), 2), xs, 'f32', layout);
      const wt = onBoth(randn(rng, sizeOf(ws)), ws, 'f32', FAST_LAYOUTS[(trial + 1) % 3]);
      const b = trial % 2 ? onBoth(randn(rng, o), [o]) : undefined;
      const opts = { stride: [sh, sw] as [number, number], padding: [ph, pw] as [number, number] };
      const fast = conv2d(x.cpu, wt.cpu, b?.cpu, opts);
      const ref = conv2d(x.ref, wt.ref, b?.ref, opts);
      const mag = await conv2d(abs(x.ref), abs(wt.ref), undefined, opts).data();
      expect(fast.shape, `trial ${trial}`).toEqual(ref.shape);
      const f = await fast.data();
      const r = await ref.data();
      const k = c * kh * kw;
      let worst = 0;
      for (let i = 0; i < r.length; i++) {
        const bound = 4 * k * 2 ** -24 * (mag[i] + 1) + 2 ** -24 * Math.abs(r[i]);
        worst = Math.max(worst, Math.abs(f[i] - r[i]) / bound);
      }
      expect(worst, `trial ${trial}: x [${xs}] w [${ws}] ${JSON.stringify(opts)}`).toBeLessThanOrEqual(1);
    }
  });

  it('f16 goes to the reference kernel', async () => {
    const x = onBoth(randn(rng, 2 * 3 * 5 * 5), [2, 3, 5, 5], 'f16');
    const w = onBoth(randn(rng, 4 * 3 * 3 * 3), [4, 3, 3, 3], 'f16');
    const f = await conv2d(x.cpu, w.cpu, undefined, { padding: 1 }).data();
    const r = await conv2d(x.ref, w.ref, undefined, { padding: 1 }).data();
    expect(Array.from(f)).toEqual(Array.from(r));
  });
});
