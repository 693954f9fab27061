import { checkFiniteArray, fail } from '../util/check.js';

// Perplexity = exp(mean per-token negative log-likelihood in nats) (Jelinek et al. 1977; the definition
// used by Hugging Face's "Perplexity of fixed-length models" guide). Lower is better; a uniform model
// over V tokens has perplexity V.

export function perplexity(nll: ArrayLike<number>): number {
  checkFiniteArray('perplexity', 'nll', nll, { minLength: 1 });
  let sum = 0;
  for (let i = 0; i < nll.length; i++) {
    if (nll[i]! < 0)
      fail('perplexity', `nll[${i}]`, `must be >= 0 (a negative log-likelihood), got ${nll[i]}`);
    sum += nll[i]!;
  }
  return Math.exp(sum / nll.length);
}
