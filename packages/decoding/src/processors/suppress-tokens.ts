/**
 * @file Banned tokens (Hugging Face's `SuppressTokensLogitsProcessor`, OpenAI's logit_bias -100 taken
 * to the limit): the listed tokens get -Infinity at every step.
 */
import { requireOption } from '../options';
import type { LogitsProcessor } from './processor';

export class SuppressTokensProcessor implements LogitsProcessor {
  readonly name = 'suppress-tokens';

  constructor(readonly tokens: readonly number[]) {
    for (const t of tokens) {
      requireOption(
        Number.isInteger(t) && t >= 0,
        'SuppressTokensProcessor',
        'suppressTokens',
        'token ids (integers >= 0)',
        t,
      );
    }
  }

  process(logits: Float32Array): void {
    for (const t of this.tokens) logits[t] = Number.NEGATIVE_INFINITY;
  }
}
