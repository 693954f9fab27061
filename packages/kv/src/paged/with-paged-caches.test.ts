import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { PagedKVCache } from './paged-cache';
import { PagedKVPool } from './pool';
import { withPagedCaches } from './with-paged-caches';

describe('withPagedCaches', () => {
  const pool = new PagedKVPool({ numLayers: 1, numKvHeads: 1, headDim: 2, numBlocks: 4, blockSize: 2 });
  // A stand-in model: createCache plus a method that reads its own state through `this`.
  class Model {
    readonly name = 'm';
    createCache(opts: { batch?: number; maxLength?: number } = {}) {
      return new ContiguousKVCache({
        numLayers: 1,
        batch: opts.batch ?? 1,
        numKvHeads: 1,
        headDim: 2,
        maxLength: 8,
      });
    }
    whoAmI() {
      return this.name;
    }
  }

  it("swaps createCache for the pool's, with the salt, and keeps everything else", () => {
    const paged = withPagedCaches(new Model(), pool, { salt: 't1' });
    const c = paged.createCache({ batch: 2, maxLength: 6, capacity: 6 } as never) as unknown as PagedKVCache;
    expect(c).toBeInstanceOf(PagedKVCache);
    expect([c.batch, c.maxLength, c.salt]).toEqual([2, 6, 't1']);
    expect(paged.whoAmI()).toBe('m');
    expect(paged).toBeInstanceOf(Model);
  });

  it('rejects an unknown option', () => {
    expect(() => withPagedCaches(new Model(), pool, { tenant: 'x' } as never)).toThrow(
      /withPagedCaches: .*Unrecognized key: "tenant"; allowed: salt/,
    );
  });
});
