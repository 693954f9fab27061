/**
 * @file Locally typical sampling (Meister, Pimentel, Wiher & Cotterell 2022, arXiv:2202.00666), as
 * Hugging Face's `TypicalLogitsWarper`: with entropy H = -sum p log p, rank tokens by
 * |-log p_i - H| (closest to the expected information first), take the shortest prefix of that
 * ranking whose probability mass reaches `mass`, and keep every token whose distance is at most the
 * distance of the prefix's last token (ties kept). The first-ranked token is always kept.
 */
import { requireOption } from '../options';
import { logSoftmax } from './probabilities';
import type { LogitsProcessor } from './processor';

export class TypicalPProcessor implements LogitsProcessor {
  readonly name = 'typical-p';

  constructor(readonly mass: number) {
    requireOption(mass > 0 && mass <= 1, 'TypicalPProcessor', 'typicalP', 'a number in (0, 1]', mass);
  }

  process(logits: Float32Array): void {
    if (this.mass >= 1) return;
    const V = logits.length;
    const logp = logSoftmax(logits, this.name);
    let entropy = 0;
    for (let i = 0; i < V; i++)
      if (logp[i] > Number.NEGATIVE_INFINITY) entropy -= Math.exp(logp[i]) * logp[i];
    const shifted = new Float64Array(V);
    for (let i = 0; i < V; i++) shifted[i] = Math.abs(-logp[i] - entropy); // +Infinity for masked tokens
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => shifted[a] - shifted[b] || a - b);
    // last = number of ranked tokens whose cumulative mass is still below `mass` (HF's last_ind).
    let cum = 0;
    let last = 0;
    for (const i of order) {
      cum += Math.exp(logp[i]);
      if (cum < this.mass) last++;
      else break;
    }
    const threshold = shifted[order[Math.min(last, V - 1)]];
    for (let r = 1; r < V; r++) {
      const i = order[r];
      if (shifted[i] > threshold) logits[i] = Number.NEGATIVE_INFINITY;
    }
  }
}
