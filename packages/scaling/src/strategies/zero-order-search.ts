/**
 * @file Zero-order search over noises (Ma et al., arXiv 2501.09732, §"Zero-Order Search"): start from
 * a random pivot noise z; each iteration draw N neighbours z + λ·u, u uniform on the unit sphere
 * (u = ε/‖ε‖, ε ~ N(0, I)), generate and verify them; the best neighbour becomes the next pivot.
 * Stop when the budget cannot pay for another iteration; return the best sample seen. Budget: NFE.
 */
import { z } from 'zod';
import { noiseProposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { bestOf, evaluateNoises, type NoiseSample, nfeOf } from '../noise-search';
import { parseOptions, runOptionsShape } from '../options';
import type { NoiseProposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';

const ZeroOrderSearchOptions = z.strictObject({
  proposer: noiseProposerOption,
  scorer: scorerOption,
  budget: z.number().int().positive(),
  /** N, neighbours per iteration. */
  neighbors: z.number().int().positive().default(4),
  /** λ, the radius of the neighbourhood sphere. */
  radius: z.number().positive().finite().default(1),
  ...runOptionsShape,
});
export type ZeroOrderSearchOptions<S> = Omit<
  z.input<typeof ZeroOrderSearchOptions>,
  'proposer' | 'scorer'
> & {
  proposer: NoiseProposer<S>;
  scorer: Scorer<S>;
};

export function zeroOrderSearch<S>(options: ZeroOrderSearchOptions<S>): Strategy<NoiseSample<S>> {
  const o = parseOptions(ZeroOrderSearchOptions, options, 'zeroOrderSearch');
  const proposer = o.proposer as NoiseProposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const nfe = nfeOf(proposer);
  if (o.budget < nfe)
    throw new ScalingError(
      'budget',
      `zeroOrderSearch: budget ${o.budget} NFE is below one sample (${nfe} NFE)`,
    );
  return defineStrategy<NoiseSample<S>>({
    name: 'zero-order-search',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      let [pivot] = await evaluateNoises(ctx, proposer, scorer, [ctx.rng().normal(proposer.dim)], 0);
      let best = pivot;
      for (let it = 1; ctx.remaining >= o.neighbors * nfe; it++) {
        const rng = ctx.rng();
        const noises = Array.from({ length: o.neighbors }, () => {
          const e = rng.normal(proposer.dim);
          const norm = Math.hypot(...e);
          return pivot.state.noise.map((z, i) => z + (o.radius * e[i]) / norm);
        });
        const cands = await evaluateNoises(
          ctx,
          proposer,
          scorer,
          noises,
          it,
          noises.map(() => pivot.id),
        );
        pivot = bestOf(cands);
        if ((pivot.score as number) > (best.score as number)) best = pivot;
        ctx.decide(it, 'pivot', { candidate: pivot.id, score: pivot.score });
        yield { step: it, active: o.neighbors, bestScore: best.score };
      }
      ctx.best = best.id;
      ctx.decide(best.step, 'select', { rule: 'best sample seen', candidate: best.id, score: best.score });
    },
  });
}
