/**
 * @file Logit bias (OpenAI's `logit_bias`): adds a fixed value to chosen tokens' logits; -100 or +100
 * effectively bans or forces a token.
 */
import { requireOption } from '../options';
import type { LogitsProcessor } from './processor';

export class LogitBiasProcessor implements LogitsProcessor {
  readonly name = 'logit-bias';
  readonly bias: ReadonlyMap<number, number>;

  constructor(bias: Readonly<Record<number, number>> | ReadonlyMap<number, number>) {
    const entries = bias instanceof Map ? [...bias] : Object.entries(bias).map(([k, v]) => [Number(k), v]);
    for (const [t, b] of entries) {
      requireOption(
        Number.isInteger(t) && t >= 0,
        'LogitBiasProcessor',
        'logitBias',
        'keyed by token ids (integers >= 0)',
        t,
      );
      requireOption(Number.isFinite(b), 'LogitBiasProcessor', `logitBias.${t}`, 'a finite number', b);
    }
    this.bias = new Map(entries as [number, number][]);
  }

  process(logits: Float32Array): void {
    for (const [t, b] of this.bias) logits[t] += b;
  }
}
