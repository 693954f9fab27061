/**
 * The fast embedding lookup ('cpu') against the reference kernel ('reference'): weights of several
 * dtypes, contiguous and transposed (strided rows), ids of any rank and layout. Rows are copied as
 * raw storage values by both, so the results must be equal bit for bit; a bad id throws the same
 * error on both.
 */
import { describe, expect, it } from 'vitest';
import { type DType, embedding } from '../../index';
import { makeTensor, mulberry32, randint, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectCpuKernel, onBoth } from '../fast-testing';
import { embeddingFast } from './fast';

const rng = mulberry32(555);

describe('embedding fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('embedding', embeddingFast));

  it('equals the reference bit for bit', async () => {
    const [V, H] = [37, 24];
    let n = 0;
    for (const dtype of ['f32', 'f16', 'bf16', 'i32'] as DType[]) {
      for (const transposed of [false, true]) {
        const wv = dtype === 'i32' ? randint(rng, V * H, -99, 99) : roundTo(randn(rng, V * H), dtype);
        // A transposed weight: stored [H, V], viewed as [V, H] with row stride 1.
        const w = transposed
          ? (() => {
              const t = new Float64Array(V * H);
              for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) t[h * V + v] = wv[v * H + h];
              const b = onBoth(t, [H, V], dtype);
              return { cpu: b.cpu.transpose(), ref: b.ref.transpose() };
            })()
          : onBoth(wv, [V, H], dtype);
        for (const shape of [[1, 1], [2, 5], [7], [2, 2, 3]]) {
          const ids = randint(
            rng,
            shape.reduce((a, b) => a * b, 1),
            0,
            V,
          );
          const layout = (['contiguous', 'permuted', 'strided'] as const)[n++ % 3];
          const got = embedding(w.cpu, makeTensor(ids, shape, 'i32', layout, 'cpu'));
          const want = embedding(w.ref, makeTensor(ids, shape, 'i32', layout, 'reference'));
          expect(
            await bitMismatch(got, want),
            `${dtype} transposed ${transposed} ids [${shape}] ${layout}`,
          ).toBeNull();
        }
      }
    }
  });

  it('throws the reference error for the first bad id', () => {
    const w = onBoth(randn(rng, 5 * 3), [5, 3]);
    for (const bad of [5, -1]) {
      const ids = [0, 4, bad, 7];
      const msg = (t: 'cpu' | 'ref') => {
        try {
          embedding(w[t], makeTensor(ids, [2, 2], 'i32', 'permuted', t === 'cpu' ? 'cpu' : 'reference'));
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      };
      expect(msg('cpu')).toMatch(new RegExp(`embedding: id ${bad} at flat index 2 of ids \\[2, 2\\]`));
      expect(msg('cpu')).toBe(msg('ref'));
    }
  });
});
