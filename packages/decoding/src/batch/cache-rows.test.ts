import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { SyntheticLM } from '../testing';
import { gatherCacheRows } from './cache-rows';

/** The synthetic model stores token ids as keys: row b of the cache reads back as its tokens. */
const model = new SyntheticLM(10, () => new Array(10).fill(0));

async function rowsOf(cache: ReturnType<typeof model.createCache>): Promise<number[][]> {
  const k = cache.keys(0);
  const d = Array.from(await k.data());
  k.dispose();
  const T = cache.length;
  return Array.from({ length: cache.batch }, (_, b) => d.slice(b * T, (b + 1) * T));
}

describe('gatherCacheRows', () => {
  it('re-picks, repeats and drops rows, keeping length and padding', async () => {
    const cache = model.createCache({ batch: 3, maxLength: 8 });
    const ids = tensor(Int32Array.from([1, 2, 3, 0, 4, 5, 0, 0, 6]), [3, 3], { dtype: 'i32' });
    await model.forward({ tokens: ids, cache, padding: [0, 1, 2] });
    const out = gatherCacheRows(model, cache, [2, 2, 0, 1]);
    expect(out).not.toBe(cache);
    expect(out.batch).toBe(4);
    expect(out.length).toBe(3);
    expect(out.padding).toEqual([2, 2, 0, 1]);
    expect(await rowsOf(out)).toEqual([
      [0, 0, 6],
      [0, 0, 6],
      [1, 2, 3],
      [0, 4, 5],
    ]);
    // The copy is independent: a forward on it leaves the original as it was.
    await model.forward({
      tokens: tensor(Int32Array.from([7, 7, 7, 7]), [4, 1], { dtype: 'i32' }),
      cache: out,
    });
    expect(out.length).toBe(4);
    expect(cache.length).toBe(3);
    out.dispose();
    cache.dispose();
  });

  it('returns the cache itself for the identity', () => {
    const cache = model.createCache({ batch: 2, maxLength: 4 });
    expect(gatherCacheRows(model, cache, [0, 1])).toBe(cache);
    cache.dispose();
  });
});
