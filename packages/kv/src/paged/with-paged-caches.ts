/**
 * @file withPagedCaches(model, pool): the same model, except that `createCache()` returns a cache
 * of the paged pool. Code that only knows the CausalLM contract (generate, beam search, speculative
 * decoding, test-time search) then runs on paged caches unchanged. Structural typing: @hasten/kv does
 * not import @hasten/models (models depends on kv).
 */
import { z } from 'zod';
import type { KVCache } from '../kv-cache';
import { parseStrict } from './options';
import type { PagedKVPool } from './pool';

const WithPagedCachesOptions = z.strictObject({
  /** Prefix-cache salt of every cache the model creates (a tenant id). */
  salt: z.string().min(1).optional(),
});
export type WithPagedCachesOptions = z.input<typeof WithPagedCachesOptions>;

/** What the wrapper needs of a model: `createCache` with the CausalLM options. */
export interface CacheFactory {
  createCache(opts?: { batch?: number; maxLength?: number; capacity?: number }): KVCache;
}

/**
 * A proxy of `model` whose createCache({ batch, maxLength }) is pool.createCache({ batch, maxLength,
 * salt }) (`capacity` has no meaning for a pool and is ignored); every other member is the model's.
 */
export function withPagedCaches<M extends CacheFactory>(
  model: M,
  pool: PagedKVPool,
  opts: WithPagedCachesOptions = {},
): M {
  const { salt } = parseStrict(WithPagedCachesOptions, opts, 'withPagedCaches');
  const createCache = (o: { batch?: number; maxLength?: number; capacity?: number } = {}) =>
    pool.createCache({ batch: o.batch ?? 1, maxLength: o.maxLength, salt });
  return new Proxy(model, {
    get(target, prop) {
      if (prop === 'createCache') return createCache;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
