/**
 * @file @hasten/kv: KV caches for @hasten/models. The contract (`KVCache`), the contiguous cache
 * (`ContiguousKVCache`) and the paged one (`PagedKVPool` / `PagedKVCache`: block pool, copy-on-write
 * forks, automatic prefix caching), and score-based eviction (`compress` with StreamingLLM, key-norm,
 * random, H2O, SnapKV, TOVA, Keyformer and Expected Attention scores; shared, per-head, AdaKV and
 * PrefixKV budgets; Elastic Cache merging; chunked prefill with eviction between chunks and a learned
 * scorer slot, Locret), and the KIVI quantized cache (`QuantizedKVCache`, with its reference quantizer
 * and fused dequantize-in-attention), which also composes with paging (`PagedKVPool`'s `quantization`
 * option: KIVI blocks attended in place).
 */
export { ContiguousKVCache, ContiguousKVCacheOptions } from './contiguous';
export type { ChunkedPrefillResult, PrefillModel } from './eviction/chunked-prefill';
export { ChunkedPrefillOptions, chunkedPrefill } from './eviction/chunked-prefill';
export { ElasticMergeOptions, elasticMerge } from './eviction/elastic-cache';
export { ExpectedAttentionOptions, expectedAttention } from './eviction/expected-attention';
export { H2OOptions, h2o } from './eviction/h2o';
export { keyNorm } from './eviction/key-norm';
export { KeyformerOptions, keyformer } from './eviction/keyformer';
export type { PositionFeatures, ScoreFunction } from './eviction/learned-scorer';
export {
  fitLinearHead,
  LearnedScorerOptions,
  LINEAR_FEATURES,
  LinearHeadOptions,
  learnedScorer,
  linearFeatures,
  linearHead,
} from './eviction/learned-scorer';
export { RandomScoresOptions, randomScores } from './eviction/random';
export type { ScoreInput, ScorePolicy } from './eviction/scorer';
export { CompressOptions, compress, ScoreOptions, scorePositions, topPositions } from './eviction/scorer';
export { SnapKVOptions, snapKV } from './eviction/snapkv';
export { StreamingLLMOptions, streamingLLM } from './eviction/streaming-llm';
export { tova } from './eviction/tova';
export type { KVCache, KVMemory } from './kv-cache';
export { blockKey, PAD_TOKEN, rootKey } from './paged/block-hash';
export { PagedCacheOptions, PagedKVPoolOptions } from './paged/options';
export type { PagedKVMemory, TokenRows } from './paged/paged-cache';
export { PagedKVCache } from './paged/paged-cache';
export type { PagedPoolSnapshot, PagedPoolStats, PrefixCacheStats, QuantizedPoolStats } from './paged/pool';
export { PagedKVPool } from './paged/pool';
export type { CacheFactory, WithPagedCachesOptions } from './paged/with-paged-caches';
export { withPagedCaches } from './paged/with-paged-caches';
export type { KiviSegment, QuantizedLayerView } from './quantized/fused-attention';
export {
  dequantizedAttention,
  QuantizedAttentionOptions,
  quantizedAttention,
} from './quantized/fused-attention';
export type { KiviBits, QuantizedBlock } from './quantized/kivi';
export { dequantize, dequantizeInto, quantize, quantizeKeys, quantizeValues } from './quantized/kivi';
export { QuantizedKVCache, QuantizedKVCacheOptions } from './quantized/quantized-cache';
