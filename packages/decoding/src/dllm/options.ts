/**
 * @file The options of generateDiffusion() and streamDiffusion(), as a strict zod object: an unknown
 * key is an error that lists the allowed ones; a bad value names the field and the allowed range.
 */
import { z } from 'zod';
import { PromptArg, Seed, SignalArg, TokenizerArg } from '../generation/options';
import { TokenId } from '../processors/from-options';

export const DiffusionOptionsSchema = z.strictObject({
  /** Text (needs `tokenizer`) or token ids; an array of them is a batch (rows decode one by one). */
  prompt: PromptArg,
  tokenizer: TokenizerArg.optional(),
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
   * How many positions a step commits: LLaDA's schedule, Fast-dLLM's confidence threshold, or
   * Fast-dLLM's factor rule (both need remasking 'low-confidence').
   */
  commit: z.enum(['schedule', 'threshold', 'factor']).default('schedule'),
  /** Confidence threshold of commit 'threshold' (Fast-dLLM default 0.9). */
  threshold: z.number().gt(0).max(1).default(0.9),
  /** Factor f of commit 'factor' (Fast-dLLM: commit while (n + 1)(1 - c_n) < f). */
  factor: z.number().gt(0).default(1),
  /**
   * 'step': LLaDA's step sampler; 'first-hitting': one forward per token, at the position and time
   * of the next unmasking (arXiv 2409.02908; ignores steps, remasking and commit).
   */
  sampler: z.enum(['step', 'first-hitting']).default('step'),
  /** Fast-dLLM KV cache: none (LLaDA), prefix, or dual (prefix + stale suffix). */
  cache: z.enum(['none', 'prefix', 'dual']).default('none'),
  /** Recompute the cache every this many steps within a block (default: at block starts only). */
  refreshEvery: z.number().int().min(1).optional(),
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
