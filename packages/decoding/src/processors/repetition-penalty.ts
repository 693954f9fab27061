/**
 * @file Repetition penalty (Keskar et al. 2019, CTRL, arXiv:1909.05858), as Hugging Face's
 * `RepetitionPenaltyLogitsProcessor`: every token that occurs in the context (prompt and generated
 * tokens) has its logit divided by θ if positive and multiplied by θ if negative, once however often
 * it occurs. θ > 1 discourages repetition, θ < 1 encourages it.
 */
import { requireOption } from '../options';
import type { LogitsProcessor, RowContext } from './processor';

export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly name = 'repetition-penalty';

  constructor(readonly penalty: number) {
    requireOption(
      Number.isFinite(penalty) && penalty > 0,
      'RepetitionPenaltyProcessor',
      'repetitionPenalty',
      'a finite number > 0',
      penalty,
    );
  }

  process(logits: Float32Array, ctx: RowContext): void {
    if (this.penalty === 1) return;
    for (const t of new Set(ctx.tokens)) {
      const x = logits[t];
      logits[t] = x > 0 ? x / this.penalty : x * this.penalty;
    }
  }
}
