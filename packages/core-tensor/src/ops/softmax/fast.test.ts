/**
 * The fast f32 softmax / logSoftmax along the last axis ('cpu') against the reference kernel
 * ('reference') on fresh seeded inputs in every layout, with -Inf entries and large logits. The same
 * float64 steps and one rounding: equal bit for bit. An all -Inf lane throws the same error on both;
 * other axes and dtypes still run the reference kernel.
 */
import { describe, expect, it } from 'vitest';
import { logSoftmax, softmax } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { softmaxFast } from './fast';

const rng = mulberry32(2718);

describe('softmax fast kernel vs reference', () => {
  it('is the cpu kernel', () => {
    expectCpuKernel('softmax', softmaxFast);
    expectCpuKernel('logSoftmax', softmaxFast);
  });

  it('equals the reference bit for bit along the last axis', async () => {
    let n = 0;
    for (const shape of [[260], [3, 17], [2, 1, 260], [2, 3, 2, 5], [4, 1]]) {
      for (const f of [softmax, logSoftmax]) {
        const layout = FAST_LAYOUTS[n++ % (shape.length === 4 ? 5 : 3)];
        const v = randn(rng, sizeOf(shape), 30);
        for (let i = 0; i < v.length; i += 7) v[i] = -Infinity;
        if (shape[shape.length - 1] === 1) v.fill(2);
        const x = onBoth(v, shape, 'f32', layout);
        expect(await bitMismatch(f(x.cpu), f(x.ref)), `${f.name} [${shape}] ${layout}`).toBeNull();
        expect(await bitMismatch(f(x.cpu, -1), f(x.ref, -1)), `${f.name} axis -1`).toBeNull();
      }
    }
  });

  it('an all -Inf lane throws the same error; NaN propagates; other axes and dtypes', async () => {
    const v = [1, 2, 3, -Infinity, -Infinity, -Infinity, 0, 0, 0];
    const x = onBoth(v, [3, 3], 'f32', 'strided');
    for (const f of [softmax, logSoftmax]) {
      const msg = (t: 'cpu' | 'ref') => {
        try {
          f(x[t]);
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      };
      expect(msg('cpu')).toMatch(/lane 1 along axis 1 of input \[3, 3\] is all -Infinity/);
      expect(msg('cpu')).toBe(msg('ref'));
    }
    const withNaN = onBoth([1, Number.NaN, 3, Infinity, 0, 1], [2, 3]);
    expect(await bitMismatch(softmax(withNaN.cpu), softmax(withNaN.ref)), 'NaN and +Inf lanes').toBeNull();
    const y = onBoth(randn(rng, 24), [2, 3, 4], 'f32', 'permuted');
    expect(await bitMismatch(softmax(y.cpu, 1), softmax(y.ref, 1)), 'axis 1').toBeNull();
    const h = onBoth(roundTo(randn(rng, 12), 'f16'), [3, 4], 'f16');
    expect(await bitMismatch(logSoftmax(h.cpu), logSoftmax(h.ref)), 'f16').toBeNull();
  });
});
