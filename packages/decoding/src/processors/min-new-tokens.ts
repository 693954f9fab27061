/**
 * @file Minimum generation length (Hugging Face's `MinNewTokensLengthLogitsProcessor`): the stop
 * tokens are banned until `minNewTokens` tokens have been generated, so a row cannot end early.
 */
import { requireOption } from '../options';
import type { LogitsProcessor, RowContext } from './processor';

export class MinNewTokensProcessor implements LogitsProcessor {
  readonly name = 'min-new-tokens';

  constructor(
    readonly minNewTokens: number,
    readonly stopTokens: readonly number[],
  ) {
    requireOption(
      Number.isInteger(minNewTokens) && minNewTokens >= 0,
      'MinNewTokensProcessor',
      'minNewTokens',
      'an integer >= 0',
      minNewTokens,
    );
  }

  process(logits: Float32Array, ctx: RowContext): void {
    if (ctx.tokens.length - ctx.promptLength >= this.minNewTokens) return;
    for (const t of this.stopTokens) logits[t] = Number.NEGATIVE_INFINITY;
  }
}
