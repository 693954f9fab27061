/**
 * @file HFTokenizer: Hugging Face `tokenizer.json` tokenizers (BPE, SentencePiece/Unigram,
 * WordPiece, with their normalizers, pre-tokenizers and decoders) through @huggingface/tokenizers,
 * the maintained pure-JS implementation that transformers.js itself uses. We wrap it; we do not
 * reimplement tokenization.
 */
import { Tokenizer as HFTokenizerImpl } from '@huggingface/tokenizers';
import { ModelError } from '../errors';
import { type DecodeOptions, type EncodeOptions, parseDecodeOptions, parseEncodeOptions } from './options';
import type { Tokenizer } from './tokenizer';

type TokenSpec = string | { content?: string } | null | undefined;

const tokenText = (t: TokenSpec) => (typeof t === 'string' ? t : (t?.content ?? undefined));

export class HFTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  private readonly impl: HFTokenizerImpl;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown = {}) {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
      throw new ModelError(
        'file',
        'tokenizer.json: expected a Hugging Face tokenizer object with a "model" field',
      );
    }
    const config = (tokenizerConfig ?? {}) as Record<string, TokenSpec>;
    try {
      this.impl = new HFTokenizerImpl(tokenizerJson, config);
    } catch (e) {
      throw new ModelError(
        'file',
        `tokenizer.json could not be loaded by @huggingface/tokenizers: ${(e as Error).message}`,
      );
    }
    // A loop, not Math.max(...ids): spreading 128k+ arguments (Llama 3, Qwen2) overflows V8's stack.
    let maxId = -1;
    for (const tokenId of this.impl.get_vocab(true).values()) if (tokenId > maxId) maxId = tokenId;
    this.vocabSize = maxId + 1;
    const id = (key: string) => {
      const text = tokenText(config[key]);
      return text === undefined ? undefined : this.impl.token_to_id(text);
    };
    this.bosTokenId = id('bos_token');
    this.eosTokenId = id('eos_token');
    this.padTokenId = id('pad_token');
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const opts = parseEncodeOptions(options, 'HFTokenizer.encode');
    return this.impl.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const opts = parseDecodeOptions(options, 'HFTokenizer.decode');
    return this.impl.decode(Array.from(ids), { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }
}
