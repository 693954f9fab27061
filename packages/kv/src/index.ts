/**
 * @file @hasten/kv: KV caches for @hasten/models. The contract (`KVCache`) and the first cache,
 * `ContiguousKVCache`.
 */
export { ContiguousKVCache, ContiguousKVCacheOptions } from './contiguous';
export type { KVCache, KVMemory } from './kv-cache';
