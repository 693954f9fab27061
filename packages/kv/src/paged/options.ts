/**
 * @file Options of the paged pool and of its caches, validated with zod (strict: an unknown key is
 * an error that names it and the allowed keys, through core-tensor's parseOptionsWith).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';

export const PagedKVPoolOptions = z.strictObject({
  numLayers: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  /** Physical blocks in the pool, allocated up front. */
  numBlocks: z.number().int().positive(),
  /** Positions per block (vLLM's default is 16). */
  blockSize: z.number().int().positive().default(16),
  /** Default `maxLength` of the caches (default numBlocks · blockSize). */
  maxLength: z.number().int().positive().optional(),
  /** Keep full blocks in a hash → block map for reuse across requests (default true). */
  prefixCaching: z.boolean().default(true),
  dtype: z.literal('f32').default('f32'),
  device: z.string().default('cpu'),
  /**
   * KIVI block storage (arXiv:2402.02750): a block leaves f32 once `residualBlocks` whole blocks of
   * committed positions follow it, and is then stored quantized (keys per channel over the block's
   * positions, values per token in groups of blockSize channels). Attention reads it in place.
   */
  quantization: z
    .strictObject({
      bits: z.union([z.literal(8), z.literal(4), z.literal(2)]).default(4),
      /** Whole blocks kept in f32 after the last quantized one (default ⌈128 / blockSize⌉, KIVI's R = 128). */
      residualBlocks: z.number().int().nonnegative().optional(),
      /**
       * Blocks of f32 storage, allocated up front (default numBlocks): every block being written or
       * in some row's f32 window takes one; quantized blocks take none.
       */
      f32Blocks: z.number().int().positive().optional(),
    })
    .optional(),
});
export type PagedKVPoolOptions = z.input<typeof PagedKVPoolOptions>;

export const PagedCacheOptions = z.strictObject({
  batch: z.number().int().positive().default(1),
  /** Most positions the cache may hold (default: the pool's maxLength). */
  maxLength: z.number().int().positive().optional(),
  /**
   * Prefix-cache salt (a tenant id): blocks cached under one salt are never matched under another
   * or under none (vLLM's `cache_salt`).
   */
  salt: z.string().min(1).optional(),
});
export type PagedCacheOptions = z.input<typeof PagedCacheOptions>;

/** Parses with `schema`; the TensorError names the bad field, or the unknown key and the allowed ones. */
export function parseStrict<S extends z.ZodObject>(schema: S, value: unknown, op: string): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new TensorError(op, problem));
}
