/**
 * @file Frequency and presence penalties as OpenAI defines them (API reference, "Parameter details"):
 * logit[j] -= c[j] * frequency + (c[j] > 0) * presence, where c[j] counts token j among the tokens
 * generated so far (the prompt does not count, as in OpenAI's and vLLM's implementations).
 */
import { requireOption } from '../options';
import type { LogitsProcessor, RowContext } from './processor';

export class FrequencyPresencePenaltyProcessor implements LogitsProcessor {
  readonly name = 'frequency-presence-penalty';

  constructor(
    readonly frequency: number,
    readonly presence: number,
  ) {
    const where = 'FrequencyPresencePenaltyProcessor';
    requireOption(Number.isFinite(frequency), where, 'frequencyPenalty', 'a finite number', frequency);
    requireOption(Number.isFinite(presence), where, 'presencePenalty', 'a finite number', presence);
  }

  process(logits: Float32Array, ctx: RowContext): void {
    if (this.frequency === 0 && this.presence === 0) return;
    const counts = new Map<number, number>();
    for (let i = ctx.promptLength; i < ctx.tokens.length; i++) {
      const t = ctx.tokens[i];
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    for (const [t, c] of counts) logits[t] -= c * this.frequency + this.presence;
  }
}
