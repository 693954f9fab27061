/**
 * @file The options of the tokenizer entry points (strict zod schemas; see ../options.ts), in their
 * own file so that tokenizer.ts, byte.ts and hf.ts share them without importing each other.
 */
import { z } from 'zod';
import { parseOptions } from '../options';

export const EncodeOptions = z.strictObject({
  /** Add the model's special tokens (BOS for Llama-style models). Default true. */
  addSpecialTokens: z.boolean().optional(),
});
export type EncodeOptions = z.input<typeof EncodeOptions>;

export const DecodeOptions = z.strictObject({
  /** Drop special tokens (BOS, EOS, PAD, ...). Default true. */
  skipSpecialTokens: z.boolean().optional(),
});
export type DecodeOptions = z.input<typeof DecodeOptions>;

/** The already-parsed files `tokenizerFromFiles` picks a tokenizer from. */
export const TokenizerFiles = z.strictObject({
  /** tokenizer.json (Hugging Face). */
  tokenizerJson: z.unknown().optional(),
  /** tokenizer_config.json. */
  tokenizerConfig: z.unknown().optional(),
});
export type TokenizerFiles = z.input<typeof TokenizerFiles>;

// encode/decode run per request (decode per streamed token): skip zod when no options are given.
export const parseEncodeOptions = (opts: EncodeOptions | undefined, where: string) =>
  opts === undefined ? {} : parseOptions(EncodeOptions, opts, where);
export const parseDecodeOptions = (opts: DecodeOptions | undefined, where: string) =>
  opts === undefined ? {} : parseOptions(DecodeOptions, opts, where);
