/**
 * @file The options of generateDiffusion() and streamDiffusion(), as a strict zod object: an unknown
 * key is an error that lists the allowed ones; a bad value names the field and the allowed range.
 */
import type { CausalLM } from '@hasten/models';
import { z } from 'zod';
import { PromptArg, Seed, SignalArg, TokenizerArg } from '../generation/options';
import { TokenId } from '../processors/from-options';
import { Learn2pdFilterSchema } from './learn2pd';

export const DiffusionOptionsSchema = z.strictObject({
  /** Text (needs `tokenizer`) or token ids; an array of them is a batch (rows decode one by one). */
  prompt: PromptArg,
  tokenizer: TokenizerArg.optional(),
  /**
   * Infilling: token ids placed after the generated positions, which then fill the gap between the
   * prompt and this suffix (one array for every row, or one per row). Bidirectional attention only.
   */
  suffix: z.union([z.array(TokenId), z.array(z.array(TokenId))]).optional(),
  /** Positions generated after the prompt (LLaDA's gen_length; default 128). */
  genLength: z.number().int().min(1).default(128),
  /** Semi-autoregressive block length; must divide genLength (default genLength: one block). */
  blockLength: z.number().int().min(1).optional(),
  /**
   * Steps of LLaDA's fixed schedule over the whole generation, a multiple of the number of blocks
   * (default genLength: one token per step). Used by commit 'schedule' only.
   */
  steps: z.number().int().min(1).optional(),
  /** Gumbel-max temperature of the token draws, in float64 (0: argmax, the default). */
  temperature: z.number().min(0).default(0),
  /** What ranks the masked positions: the model's probability of its token, or a uniform draw. */
  remasking: z.enum(['low-confidence', 'random']).default('low-confidence'),
  /**
   * How many positions a step commits: LLaDA's schedule, Fast-dLLM's confidence threshold,
   * Fast-dLLM's factor rule, or LocalLeap's anchors and local commits (local-leap.ts; all but
   * 'schedule' need remasking 'low-confidence'); 'learn2pd': Learn2PD's learned filter (learn2pd.ts);
   * 'ar-guided': an autoregressive model's greedy check of the proposals (ar-guided.ts).
   */
  commit: z
    .enum(['schedule', 'threshold', 'factor', 'local-leap', 'learn2pd', 'ar-guided'])
    .default('schedule'),
  /** Confidence threshold of commit 'threshold' (Fast-dLLM default 0.9). */
  threshold: z.number().gt(0).max(1).default(0.9),
  /** Factor f of commit 'factor' (Fast-dLLM: commit while (n + 1)(1 - c_n) < f). */
  factor: z.number().gt(0).default(1),
  /** LocalLeap: confidence of an anchor (default 0.9). commit 'local-leap' only. */
  anchorThreshold: z.number().gt(0).max(1).optional(),
  /** LocalLeap: the relaxed confidence of a position near an anchor (default 0.7). */
  localThreshold: z.number().gt(0).max(1).optional(),
  /** LocalLeap: how far (in positions) from an anchor the relaxed bar applies (default 2). */
  leapRadius: z.number().int().min(1).optional(),
  /**
   * Learn2PD: the filter's weights (`hasten.learn2pd/1`, e.g. the parsed
   * fixtures/code-mdlm/learn2pd.json). Required by commit 'learn2pd'.
   */
  learn2pdFilter: Learn2pdFilterSchema.optional(),
  /**
   * Learn2PD tau: commit the positions the filter scores >= tau, at least the most confident one
   * (default the filter's `threshold`; Infinity: one token per step, LLaDA low-confidence).
   */
  learn2pdThreshold: z
    .number()
    .gt(0)
    .max(1)
    .or(z.custom<number>((v) => v === Number.POSITIVE_INFINITY, 'expected a number in (0, 1] or Infinity'))
    .optional(),
  /**
   * commit 'ar-guided': the autoregressive model (a CausalLM with the diffusion model's vocabulary,
   * e.g. fixtures/code-target) whose greedy tokens decide the commits. Required by 'ar-guided'.
   */
  arModel: z
    .custom<CausalLM>(
      (m) =>
        typeof m === 'object' &&
        m !== null &&
        typeof (m as CausalLM).forward === 'function' &&
        typeof (m as CausalLM).createCache === 'function',
      'expected a CausalLM (forward, createCache)',
    )
    .optional(),
  /**
   * commit 'ar-guided', at the first proposal the AR model disagrees with: commit the AR's token
   * ('ar', default) or, when nothing was accepted, the diffusion model's most confident position.
   */
  arFallback: z.enum(['ar', 'dllm']).optional(),
  /**
   * 'step': LLaDA's step sampler; 'first-hitting': one forward per token, at the position and time
   * of the next unmasking (arXiv 2409.02908; ignores steps, remasking and commit).
   */
  sampler: z.enum(['step', 'first-hitting']).default('step'),
  /**
   * KV cache: none (LLaDA); Fast-dLLM's prefix or dual (prefix + stale suffix); 'dkv'
   * (dKV-Cache-Decode, delayed caching of decoded tokens: dkv-cache.ts); 'dllm-cache' (rare prompt
   * refresh, partial response refresh: dllm-cache.ts); 'elastic' (Elastic-Cache, attention-drift
   * triggered refresh and a sliding window: elastic-cache.ts).
   */
  cache: z.enum(['none', 'prefix', 'dual', 'dkv', 'dllm-cache', 'elastic']).default('none'),
  /**
   * Recompute the whole cache every this many steps within a block (prefix, dual, elastic: default
   * at block starts only; dkv: default 8, dKV-Cache's cache_reloading_step).
   */
  refreshEvery: z.number().int().min(1).optional(),
  /** dLLM-Cache K_p: refresh the prompt features every this many steps (default 100). */
  promptRefreshEvery: z.number().int().min(1).optional(),
  /** dLLM-Cache K_r: refresh the response features every this many steps (default 7). */
  responseRefreshEvery: z.number().int().min(1).optional(),
  /** dLLM-Cache rho: fraction of the response recomputed between refreshes (default 0.25). */
  refreshRatio: z.number().min(0).max(1).optional(),
  /** Elastic-Cache gamma: refresh when the attention drift's cosine similarity is below it (0.9). */
  driftThreshold: z.number().min(0).max(1).optional(),
  /** Elastic-Cache: layer of the drift test (default the last layer). */
  driftLayer: z.number().int().min(0).optional(),
  /** Elastic-Cache beta: masked positions of the block in the sliding window (default all). */
  window: z.number().int().min(1).optional(),
  /** Default: the model's ('bidirectional' for LLaDA-style checkpoints). */
  attention: z.enum(['bidirectional', 'block-causal']).optional(),
  /** End-of-text id (default: the model config's first eosTokenId, else the tokenizer's). */
  eosTokenId: TokenId.optional(),
  /** Once an <eos> is committed, fill every later masked position with <eos> (default true). */
  eosFill: z.boolean().default(true),
  /** Seed of the per-row Philox streams (row r uses rng(seed).fold(r)). */
  seed: Seed.default(0),
  /** Drop special tokens from the decoded text (default true). */
  skipSpecialTokens: z.boolean().default(true),
  /** Stops between steps; the unfinished rows end with finish reason 'abort'. */
  signal: SignalArg.optional(),
});

export type DiffusionOptions = z.input<typeof DiffusionOptionsSchema>;
export type ParsedDiffusionOptions = z.output<typeof DiffusionOptionsSchema>;
