/**
 * @file No-repeat n-gram blocking (Paulus, Xiong & Socher 2017, arXiv:1705.04304), as Hugging Face's
 * `NoRepeatNGramLogitsProcessor`: a token is banned if, appended to the context (prompt and generated
 * tokens), it would complete an n-gram that already occurs in the context. n = 1 bans every token
 * seen so far.
 */
import { requireOption } from '../options';
import type { LogitsProcessor, RowContext } from './processor';

export class NoRepeatNGramProcessor implements LogitsProcessor {
  readonly name = 'no-repeat-ngram';

  constructor(readonly n: number) {
    requireOption(
      Number.isInteger(n) && n >= 1,
      'NoRepeatNGramProcessor',
      'noRepeatNgramSize',
      'an integer >= 1',
      n,
    );
  }

  process(logits: Float32Array, ctx: RowContext): void {
    const t = ctx.tokens;
    const n = this.n;
    const L = t.length;
    if (L + 1 < n) return;
    // The n-1 tokens the next token would follow: t[L-n+1 .. L-1]; ban t[s+n-1] wherever
    // t[s .. s+n-2] equals them.
    for (let s = 0; s + n - 1 < L; s++) {
      let same = true;
      for (let j = 0; j < n - 1 && same; j++) same = t[s + j] === t[L - n + 1 + j];
      if (same) logits[t[s + n - 1]] = Number.NEGATIVE_INFINITY;
    }
  }
}
