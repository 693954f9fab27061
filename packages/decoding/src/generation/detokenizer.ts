/**
 * @file Incremental detokenization for streaming, as text-generation-inference's `decode_token`
 * (prefix / read offsets): decode a short window of recent tokens twice, without and with the new
 * ones, and emit the difference only when the longer decode does not end in U+FFFD. A byte-level
 * tokenizer thus never emits half a UTF-8 character (the replacement character would be permanent in
 * a stream), and SentencePiece-style tokenizers keep the space a token carries only in context.
 */
import type { Tokenizer } from '@hasten/models';

/** Prompt tokens kept as left context for the first decode (TGI uses 5). */
const PROMPT_CONTEXT = 5;

export class IncrementalDetokenizer {
  private readonly ids: number[];
  private prefix = 0;
  private read: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    prompt: readonly number[],
    private readonly skipSpecialTokens = true,
  ) {
    this.ids = prompt.slice(Math.max(0, prompt.length - PROMPT_CONTEXT));
    this.read = this.ids.length;
  }

  /** Adds one token; returns the text it completes ('' while a character is incomplete). */
  push(token: number): string {
    this.ids.push(token);
    return this.advance(false);
  }

  /** Whatever is still held back (an incomplete character decodes as U+FFFD here). */
  flush(): string {
    return this.advance(true);
  }

  private decode(from: number, to: number): string {
    return this.tokenizer.decode(this.ids.slice(from, to), { skipSpecialTokens: this.skipSpecialTokens });
  }

  private advance(force: boolean): string {
    if (this.read === this.ids.length) return '';
    const before = this.decode(this.prefix, this.read);
    const after = this.decode(this.prefix, this.ids.length);
    if (after.length > before.length && (force || !after.endsWith('\uFFFD'))) {
      this.prefix = this.read;
      this.read = this.ids.length;
      return after.slice(before.length);
    }
    if (force) {
      this.prefix = this.read = this.ids.length;
    }
    return '';
  }
}
