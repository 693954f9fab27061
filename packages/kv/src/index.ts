/**
 * @file @hasten/kv: KV caches for @hasten/models. The contract (`KVCache`), the contiguous cache
 * (`ContiguousKVCache`) and the paged one (`PagedKVPool` / `PagedKVCache`: block pool, copy-on-write
 * forks, automatic prefix caching).
 */
export { ContiguousKVCache, ContiguousKVCacheOptions } from './contiguous';
export type { KVCache, KVMemory } from './kv-cache';
export { blockKey, PAD_TOKEN, rootKey } from './paged/block-hash';
export { PagedCacheOptions, PagedKVPoolOptions } from './paged/options';
export type { PagedKVMemory, TokenRows } from './paged/paged-cache';
export { PagedKVCache } from './paged/paged-cache';
export type { PagedPoolSnapshot, PagedPoolStats, PrefixCacheStats } from './paged/pool';
export { PagedKVPool } from './paged/pool';
export type { CacheFactory, WithPagedCachesOptions } from './paged/with-paged-caches';
export { withPagedCaches } from './paged/with-paged-caches';
