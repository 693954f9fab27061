/**
 * @file Random search over initial noises (Ma et al., "Inference-Time Scaling for Diffusion Models
 * beyond Scaling Denoising Steps", arXiv 2501.09732): best-of-N over noises. Draw
 * N = ⌊budget / nfe⌋ noises z_i ~ N(0, I), generate x_i = G(z_i), return argmax_i r(x_i).
 * Budget: NFE.
 */
import { z } from 'zod';
import { noiseProposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { bestOf, evaluateNoises, type NoiseSample, nfeOf } from '../noise-search';
import { parseOptions, runOptionsShape } from '../options';
import type { NoiseProposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';

const RandomSearchOptions = z.strictObject({
  proposer: noiseProposerOption,
  scorer: scorerOption,
  /** NFE. */
  budget: z.number().int().positive(),
  ...runOptionsShape,
});
export type RandomSearchOptions<S> = Omit<z.input<typeof RandomSearchOptions>, 'proposer' | 'scorer'> & {
  proposer: NoiseProposer<S>;
  scorer: Scorer<S>;
};

export function randomSearch<S>(options: RandomSearchOptions<S>): Strategy<NoiseSample<S>> {
  const o = parseOptions(RandomSearchOptions, options, 'randomSearch');
  const proposer = o.proposer as NoiseProposer<S>;
  const n = Math.floor(o.budget / nfeOf(proposer));
  if (n < 1)
    throw new ScalingError(
      'budget',
      `randomSearch: budget ${o.budget} NFE is below one sample (${nfeOf(proposer)} NFE)`,
    );
  return defineStrategy<NoiseSample<S>>({
    name: 'random-search',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const noises = Array.from({ length: n }, () => ctx.rng().normal(proposer.dim));
      const cands = await evaluateNoises(ctx, proposer, o.scorer as Scorer<S>, noises, 0);
      const best = bestOf(cands);
      ctx.best = best.id;
      ctx.decide(0, 'select', { rule: 'argmax verifier score', candidate: best.id, score: best.score });
      yield { step: 0, active: 0, bestScore: best.score };
    },
  });
}
