/**
 * @file Top-k filtering (Fan, Lewis & Dauphin 2018, arXiv:1805.04833): keep the k largest logits and
 * mask the rest. As Hugging Face's `TopKLogitsWarper`, a token tied with the k-th largest logit is
 * kept too (the rule is "logit >= k-th largest").
 */
import { requireOption } from '../options';
import type { LogitsProcessor } from './processor';

export class TopKProcessor implements LogitsProcessor {
  readonly name = 'top-k';

  constructor(readonly k: number) {
    requireOption(Number.isInteger(k) && k >= 1, 'TopKProcessor', 'topK', 'an integer >= 1', k);
  }

  process(logits: Float32Array): void {
    if (this.k >= logits.length) return;
    const kth = Float32Array.from(logits)
      .sort()
      .at(logits.length - this.k)!;
    for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = Number.NEGATIVE_INFINITY;
  }
}
