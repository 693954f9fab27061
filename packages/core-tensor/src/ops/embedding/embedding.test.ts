import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import { makeTensor, mulberry32, randint, randn, roundTo } from '../../test-utils';
import { embedding } from './embedding';

describe('embedding', () => {
  const rng = mulberry32(41);

  it('gathers rows bit for bit, for any ids shape, dtype and weight layout', async () => {
    const [V, H] = [11, 6];
    let c = 0;
    for (const dtype of ['f32', 'f16', 'bf16', 'i32'] as DType[]) {
      for (const idsShape of [[], [4], [2, 3], [2, 1, 3]]) {
        const w = dtype === 'i32' ? randint(rng, V * H, -99, 99) : roundTo(randn(rng, V * H), dtype);
        const n = idsShape.reduce((a, b) => a * b, 1);
        const ids = randint(rng, n, 0, V);
        // 'permuted' here is a transposed [H, V] buffer viewed as [V, H] (a tied lm_head, say).
        const weight = makeTensor(w, [V, H], dtype, c % 2 ? 'permuted' : 'strided');
        const y = embedding(weight, makeTensor(ids, idsShape, 'i32', c++ % 2 ? 'contiguous' : 'permuted'));
        expect(y.shape).toEqual([...idsShape, H]);
        expect(y.dtype).toBe(dtype);
        const want = Array.from(ids).flatMap((id) => Array.from(w.subarray(id * H, id * H + H)));
        expect(await y.array()).toEqual(want);
      }
    }
  });

  it('throws on an out-of-range id, naming it and the vocabulary size', () => {
    const w = tensor(new Float32Array(12), [4, 3]);
    expect(() => embedding(w, tensor([0, 4], [2], { dtype: 'i32' }))).toThrow(
      /embedding: id 4 at flat index 1 .* vocabulary of 4 rows/,
    );
    expect(() => embedding(w, tensor([-1], [1], { dtype: 'i32' }))).toThrow(/embedding: id -1 /);
    expect(() => embedding(w, tensor([0, 1]))).toThrow(/embedding: ids \[2\] has dtype f32; expected i32/);
    expect(() => embedding(tensor([1, 2]), tensor([0], [1], { dtype: 'i32' }))).toThrow(
      /embedding: weight must be \[vocab, hidden\], got \[2\]/,
    );
  });
});
