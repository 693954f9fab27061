/**
 * @file The first-hitting sampler (Zheng et al., "Masked Diffusion Models are Secretly Time-Agnostic
 * Masked Models and Exploit Inaccurate Categorical Sampling", arXiv 2409.02908, §4, Algorithm 2).
 * Under the linear schedule alpha_t = 1 - t, each of the n masked tokens at time t unmasks at an
 * independent uniform time in [0, t), so the next one to unmask does so at the first hitting time
 * tau = t * u^(1/n) (u ~ U(0, 1]), it is any of the n with equal probability, and its token is drawn
 * from the model's categorical there. A time-agnostic model (the mask predictor ignores t) therefore
 * needs exactly one forward per token, with no step that unmasks nothing and no step that draws
 * several tokens from one forward; the times only label the events.
 *
 * Random numbers per event: two uniforms (time, position), then the token's Gumbel draws (llada.ts
 * `predict`).
 */
import type { Philox } from '@hasten/core-tensor';
import { DecodingError } from '../errors';

export interface FirstHit {
  /** Index into the masked positions (uniform over the `masked` of them). */
  index: number;
  /** The hitting time tau in (0, t]. */
  time: number;
}

/** Which of `masked` positions unmasks next, and when, from time `t`. */
export function firstHit(masked: number, t: number, gen: Philox): FirstHit {
  if (!Number.isInteger(masked) || masked < 1) {
    throw new DecodingError('input', `firstHit: needs at least one masked position, got ${masked}`);
  }
  const [a, b] = gen.uniform(2);
  return { time: t * (1 - a) ** (1 / masked), index: Math.min(masked - 1, Math.floor(b * masked)) };
}
