/**
 * @file The tokenizer contract shared by the byte-level fixture tokenizer and Hugging Face
 * `tokenizer.json` tokenizers, and `tokenizerFromFiles`, which picks one from parsed files.
 */
import { ModelError } from '../errors';
import { parseOptions } from '../options';
import { ByteTokenizer } from './byte';
import { HFTokenizer } from './hf';
import { type DecodeOptions, type EncodeOptions, TokenizerFiles } from './options';

export type { DecodeOptions, EncodeOptions, TokenizerFiles } from './options';

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
}

/**
 * A tokenizer from already-parsed files (works in browsers): `tokenizer.json` (+ its
 * `tokenizer_config.json`) gives an HFTokenizer; a `tokenizer_config.json` of class
 * `ByteLevelHasten` alone gives the fixtures' ByteTokenizer.
 */
export function tokenizerFromFiles(input: TokenizerFiles): Tokenizer {
  const files = parseOptions(TokenizerFiles, input, 'tokenizerFromFiles');
  if (files.tokenizerJson) return new HFTokenizer(files.tokenizerJson, files.tokenizerConfig ?? {});
  const cls = (files.tokenizerConfig as { tokenizer_class?: unknown } | undefined)?.tokenizer_class;
  if (cls === ByteTokenizer.CLASS) return ByteTokenizer.fromConfig(files.tokenizerConfig);
  throw new ModelError(
    'file',
    `no tokenizer: need tokenizer.json (Hugging Face) or a tokenizer_config.json with tokenizer_class '${ByteTokenizer.CLASS}' (got ${JSON.stringify(cls ?? null)})`,
  );
}
