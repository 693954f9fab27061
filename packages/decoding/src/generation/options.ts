/**
 * @file The options of generate() and stream(), as a strict zod object: an unknown key is an error
 * that lists the allowed ones; a bad value names the field and the allowed range.
 */
import type { Tokenizer } from '@hasten/models';
import { z } from 'zod';
import { processorShape, TokenId } from '../processors/from-options';
import { KVCompressionSchema } from './kv-compression';

const isTokenizer = (t: unknown): t is Tokenizer =>
  typeof t === 'object' &&
  t !== null &&
  typeof (t as Tokenizer).encode === 'function' &&
  typeof (t as Tokenizer).decode === 'function';
export const TokenizerArg = z.custom<Tokenizer>(isTokenizer, 'expected a Tokenizer (from @hasten/models)');

const isSignal = (s: unknown): s is AbortSignal =>
  typeof s === 'object' && s !== null && typeof (s as AbortSignal).aborted === 'boolean';
export const SignalArg = z.custom<AbortSignal>(isSignal, 'expected an AbortSignal');

const OnePrompt = z.union([z.string(), z.array(TokenId).min(1)]);
/** A text or token-id prompt, or a batch of them (one per row). */
export const PromptArg = z.union([OnePrompt, z.array(OnePrompt).min(1)], {
  error: 'expected a string, a non-empty array of token ids, or a non-empty array of those (one per row)',
});

export const Seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const GenerateOptionsSchema = z.strictObject({
  /** Text (needs `tokenizer`) or token ids; an array of them is a batch. */
  prompt: PromptArg,
  /** Most tokens generated per row (default 64). */
  maxNewTokens: z.number().int().min(1).default(64),
  /** Sample from the processed distribution (true) or take its argmax (false, the default). */
  doSample: z.boolean().default(false),
  /** Seed of the per-row Philox streams: one for the batch (row r uses fold(r)) or one per row. */
  seed: z.union([Seed, z.array(Seed).min(1)]).default(0),
  /** Tokens that end a row (default: the model config's eosTokenId, else the tokenizer's). [] disables. */
  stopTokens: z.array(TokenId).optional(),
  /** Strings that end a row; the text is cut before the stop string (needs `tokenizer`). */
  stopStrings: z.array(z.string().min(1)).optional(),
  /** Encodes text prompts and decodes the generated text. */
  tokenizer: TokenizerArg.optional(),
  /** Drop special tokens from the decoded text (default true). */
  skipSpecialTokens: z.boolean().default(true),
  /** Stops every row between steps, with finish reason 'abort'. */
  signal: SignalArg.optional(),
  /** Id fed in pad slots (default: config.padTokenId, the tokenizer's, else 0; the model never sees it). */
  padTokenId: TokenId.optional(),
  /**
   * Compress the KV cache after prefill and every few decode steps (kv-compression.ts): a
   * @hasten/kv policy and the positions to keep. Rows must share one prompt length (no padding).
   */
  kvCompression: KVCompressionSchema.optional(),
  ...processorShape,
});

export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;
export type ParsedGenerateOptions = z.output<typeof GenerateOptionsSchema>;
