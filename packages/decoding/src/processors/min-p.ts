/**
 * @file Min-p filtering (Nguyen et al. 2024, arXiv:2407.01082): keep tokens whose probability is at
 * least min_p times the largest probability. The most probable token always survives.
 */
import { requireOption } from '../options';
import { softmax } from './probabilities';
import type { LogitsProcessor } from './processor';

export class MinPProcessor implements LogitsProcessor {
  readonly name = 'min-p';

  constructor(readonly minP: number) {
    requireOption(minP >= 0 && minP <= 1, 'MinPProcessor', 'minP', 'a number in [0, 1]', minP);
  }

  process(logits: Float32Array): void {
    if (this.minP === 0) return;
    const probs = softmax(logits, this.name);
    let pMax = 0;
    for (const p of probs) if (p > pMax) pMax = p;
    const threshold = this.minP * pMax;
    for (let i = 0; i < probs.length; i++) if (probs[i] < threshold) logits[i] = Number.NEGATIVE_INFINITY;
  }
}
