/**
 * @file The MaskedDiffusionLM contract (DESIGN.md §2): a mask predictor in the style of LLaDA
 * (Nie et al., "Large Language Diffusion Models", arXiv 2502.09992): a transformer without a causal
 * mask that reads a sequence in which some tokens are the mask token and predicts, at every
 * position, the clean token (logits [B, S, vocab]; no shift: position i predicts token i).
 *
 * `NativeMaskedDiffusionLM` runs such a model on any `CausalLM` of this package (the native Llama
 * family, or ONNX Runtime on our graph) through its explicit-mask path: `attention` becomes a bool
 * mask [B or 1, 1, S, P + S] over the cached and new positions and the forward does not write the
 * cache unless asked (`writeCache: false`, the default here).
 *
 * Attention:
 * - 'bidirectional' (LLaDA): every query sees every key (cached and new).
 * - block-causal (block diffusion; BD3-LM arXiv 2503.09573, SDAR, Fast-dLLM v2 arXiv 2509.26328):
 *   the positions are cut into blocks, position p < offset is block 0 and otherwise block
 *   1 + floor((p - offset) / blockLength); a query of block b sees the keys of blocks 0..b. With it,
 *   the keys and values of committed blocks do not depend on later blocks, so forwarding the
 *   committed prefix once with `writeCache: true` and then only the current block against that
 *   cache gives exactly the logits of a full forward.
 *
 * Cached keys carry their RoPE positions; attention does not care in which slot order they sit, so a
 * cache may hold any set of positions (the prefix and a stale suffix, for Fast-dLLM's dual cache);
 * for block-causal attention pass their positions in `cachePositions` (default 0..P-1).
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import { z } from 'zod';
import type { CausalLM, CreateCacheOptions, ForwardOutput, ModelConfig } from './causal-lm';
import { ModelError } from './errors';
import { parseOptions } from './options';

/** Block-causal attention: block 0 is [0, offset), then blocks of `blockLength` positions. */
export interface BlockCausal {
  blockLength: number;
  /** First position of block 1 (e.g. the prompt length, so the prompt is one block). Default 0. */
  offset?: number;
}

export type DiffusionAttention = 'bidirectional' | BlockCausal;

export interface DiffusionForwardInput {
  /** Token ids i32 [B, S]; masked positions hold `maskTokenId`. */
  tokens: Tensor;
  /** Positions i32 [B, S] (default: cache length + [0, S)). */
  positions?: Tensor;
  /** Default: the model's attention ('bidirectional' for LLaDA-style checkpoints). */
  attention?: DiffusionAttention;
  /** Cached keys/values of other positions (from createCache and a forward with writeCache). */
  cache?: KVCache;
  /** Positions of the cache's slots, in slot order (block-causal attention only; default 0..P-1). */
  cachePositions?: readonly number[];
  /** Append the new positions' keys/values to the cache (default false). */
  writeCache?: boolean;
  /** Logits of the last N positions only (default all S). */
  logitsToKeep?: number;
  outputHiddenStates?: boolean;
  /**
   * Also return every layer's queries (after RoPE) of the last N new positions (CausalLM's
   * `outputQueries`; native models only): attention weights against `cache.keys(layer)` (e.g.
   * Elastic-Cache's drift test in @hasten/decoding).
   */
  outputQueries?: number;
}

export interface MaskedDiffusionConfig extends ModelConfig {
  maskTokenId: number;
  /** The attention the checkpoint was trained with. */
  attention: DiffusionAttention;
}

export interface MaskedDiffusionLM {
  readonly config: MaskedDiffusionConfig;
  readonly maskTokenId: number;
  readonly device: string;
  createCache(opts?: CreateCacheOptions): KVCache;
  forward(input: DiffusionForwardInput): Promise<ForwardOutput>;
  dispose(): void;
}

const BlockCausalSchema = z.strictObject({
  blockLength: z.number().int().positive(),
  offset: z.number().int().nonnegative().optional(),
});
const AttentionSchema = z.union([z.literal('bidirectional'), BlockCausalSchema]);

const WrapOptions = z.strictObject({
  /** The mask token id (LLaDA: 126336; the fixtures: 259). */
  maskTokenId: z.number().int().nonnegative(),
  attention: AttentionSchema.default('bidirectional'),
});
export type MaskedDiffusionOptions = z.input<typeof WrapOptions>;

const isTensor = (t: unknown): t is Tensor =>
  typeof t === 'object' && t !== null && 'shape' in t && typeof (t as Tensor).data === 'function';
const TensorArg = z.custom<Tensor>(isTensor, 'expected a core-tensor Tensor');
const isCache = (c: unknown): c is KVCache =>
  typeof c === 'object' && c !== null && typeof (c as KVCache).append === 'function';
const ForwardSchema = z.strictObject({
  tokens: TensorArg,
  positions: TensorArg.optional(),
  attention: AttentionSchema.optional(),
  cache: z.custom<KVCache>(isCache, 'expected a KVCache (model.createCache())').optional(),
  cachePositions: z.array(z.number().int().nonnegative()).readonly().optional(),
  writeCache: z.boolean().optional(),
  logitsToKeep: z.number().int().positive().optional(),
  outputHiddenStates: z.boolean().optional(),
  outputQueries: z.number().int().positive().optional(),
});

/** The block index of position p under block-causal attention. */
export function blockOf(p: number, a: BlockCausal): number {
  const off = a.offset ?? 0;
  return p < off ? 0 : 1 + Math.floor((p - off) / a.blockLength);
}

/** A masked diffusion LM on a CausalLM's explicit-mask forward. */
export class NativeMaskedDiffusionLM implements MaskedDiffusionLM {
  readonly config: MaskedDiffusionConfig;
  readonly maskTokenId: number;

  constructor(
    readonly model: CausalLM,
    opts: MaskedDiffusionOptions,
  ) {
    const o = parseOptions(WrapOptions, opts, 'NativeMaskedDiffusionLM');
    if (o.maskTokenId >= model.config.vocabSize) {
      throw new ModelError(
        'options',
        `NativeMaskedDiffusionLM: option 'maskTokenId' ${o.maskTokenId} is outside the vocabulary [0, ${model.config.vocabSize})`,
      );
    }
    this.maskTokenId = o.maskTokenId;
    this.config = { ...model.config, maskTokenId: o.maskTokenId, attention: o.attention };
  }

  get device(): string {
    return this.model.device;
  }

  createCache(opts: CreateCacheOptions = {}): KVCache {
    return this.model.createCache(opts);
  }

  async forward(input: DiffusionForwardInput): Promise<ForwardOutput> {
    const o = parseOptions(ForwardSchema, input, 'MaskedDiffusionLM.forward');
    const tokens = o.tokens;
    if (tokens.rank !== 2) {
      throw new ModelError('input', 'MaskedDiffusionLM.forward: tokens must be i32 [batch, seq]');
    }
    const [B, S] = tokens.shape;
    const P = o.cache?.length ?? 0;
    const T = P + S;
    const attention = o.attention ?? this.config.attention;
    let mask: Tensor;
    if (attention === 'bidirectional') {
      mask = tensor(new Uint8Array(T * S).fill(1), [1, 1, S, T], { dtype: 'bool' });
    } else {
      const cachePos = o.cachePositions ?? Array.from({ length: P }, (_, i) => i);
      if (cachePos.length !== P) {
        throw new ModelError(
          'input',
          `MaskedDiffusionLM.forward: cachePositions has ${cachePos.length} entries for a cache of ${P} positions`,
        );
      }
      let newPos: ArrayLike<number>;
      if (o.positions) {
        newPos = await o.positions.data();
        if (B > 1) {
          // Block-causal masks are built from row 0's positions; rows must agree.
          for (let b = 1; b < B; b++)
            for (let s = 0; s < S; s++)
              if (newPos[b * S + s] !== newPos[s])
                throw new ModelError(
                  'input',
                  'MaskedDiffusionLM.forward: block-causal attention needs the same positions in every row',
                );
        }
      } else {
        newPos = Array.from({ length: S }, (_, s) => P + s);
      }
      const keyBlocks = [...cachePos, ...Array.from({ length: S }, (_, s) => newPos[s])].map((p) =>
        blockOf(p, attention),
      );
      const m = new Uint8Array(S * T);
      for (let i = 0; i < S; i++) {
        const qb = blockOf(newPos[i], attention);
        for (let j = 0; j < T; j++) m[i * T + j] = keyBlocks[j] <= qb ? 1 : 0;
      }
      mask = tensor(m, [1, 1, S, T], { dtype: 'bool' });
    }
    try {
      return await this.model.forward({
        tokens,
        ...(o.positions ? { positions: o.positions } : {}),
        attention: mask,
        ...(o.cache ? { cache: o.cache } : {}),
        writeCache: o.writeCache ?? false,
        ...(o.logitsToKeep !== undefined ? { logitsToKeep: o.logitsToKeep } : {}),
        ...(o.outputHiddenStates ? { outputHiddenStates: true } : {}),
        ...(o.outputQueries !== undefined ? { outputQueries: o.outputQueries } : {}),
      });
    } finally {
      mask.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * The masked-diffusion fields of a config.json: `mask_token_id` (LLaDA's name) and this project's
 * `diffusion_attention` ('bidirectional' | 'block-causal' with `diffusion_block_length`).
 * Throws ModelError('config') naming the field when they are missing or malformed.
 */
export function maskedDiffusionOptionsFromConfig(configJson: unknown): MaskedDiffusionOptions {
  const c = (configJson ?? {}) as Record<string, unknown>;
  const mask = c.mask_token_id;
  if (typeof mask !== 'number' || !Number.isInteger(mask) || mask < 0) {
    throw new ModelError(
      'config',
      `config.json: field 'mask_token_id' must be a non-negative integer for a masked diffusion LM, got ${JSON.stringify(mask)}`,
    );
  }
  const kind = c.diffusion_attention ?? 'bidirectional';
  if (kind === 'bidirectional') return { maskTokenId: mask, attention: 'bidirectional' };
  if (kind === 'block-causal') {
    const bl = c.diffusion_block_length;
    if (typeof bl !== 'number' || !Number.isInteger(bl) || bl < 1) {
      throw new ModelError(
        'config',
        `config.json: field 'diffusion_block_length' must be a positive integer with block-causal attention, got ${JSON.stringify(bl)}`,
      );
    }
    return { maskTokenId: mask, attention: { blockLength: bl } };
  }
  throw new ModelError(
    'config',
    `config.json: field 'diffusion_attention' must be 'bidirectional' or 'block-causal', got ${JSON.stringify(kind)}`,
  );
}
