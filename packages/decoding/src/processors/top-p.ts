/**
 * @file Top-p (nucleus) filtering (Holtzman et al. 2019, arXiv:1904.09751): keep the smallest set of
 * most probable tokens whose probabilities sum to at least p; always at least one token. Tokens of
 * equal probability enter in increasing id order.
 */
import { requireOption } from '../options';
import { orderDescending, softmax } from './probabilities';
import type { LogitsProcessor } from './processor';

export class TopPProcessor implements LogitsProcessor {
  readonly name = 'top-p';

  constructor(readonly p: number) {
    requireOption(p > 0 && p <= 1, 'TopPProcessor', 'topP', 'a number in (0, 1]', p);
  }

  process(logits: Float32Array): void {
    if (this.p >= 1) return;
    const probs = softmax(logits, this.name);
    const order = orderDescending(probs);
    let cum = 0;
    let kept = 0;
    while (kept < order.length && (kept === 0 || cum < this.p)) cum += probs[order[kept++]];
    for (let r = kept; r < order.length; r++) logits[order[r]] = Number.NEGATIVE_INFINITY;
  }
}
