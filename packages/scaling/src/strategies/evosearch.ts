/**
 * @file EvoSearch over initial noises (He et al., "Scaling Image and Video Generation via Test-Time
 * Evolutionary Search", arXiv 2505.17618; reference code `evo_pipe.py`). A population of noises is
 * generated and rewarded; each generation keeps the top `elites`, picks the other population − elites
 * parents by tournament (a random 90% subset of the population, its best member), and mutates them
 *   child = √(1 − β²)·parent + β·ε,  ε ~ N(0, I),  β = mutationRate (0.2),
 * which keeps children N(0, I)-distributed; the new population is elites ∪ children (only children
 * are generated, elites keep their reward). Until the budget cannot pay for another generation;
 * returns the best sample seen. Only the noise-level evolution is here: the paper also evolves
 * intermediate states x_t at scheduled denoising steps (child = parent + σ_t ε), which needs a
 * step-wise diffusion adapter. Budget: NFE.
 */
import { z } from 'zod';
import { noiseProposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { bestOf, evaluateNoises, type NoiseSample, nfeOf } from '../noise-search';
import { parseOptions, runOptionsShape } from '../options';
import type { NoiseProposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const EvoSearchOptions = z.strictObject({
  proposer: noiseProposerOption,
  scorer: scorerOption,
  budget: z.number().int().positive(),
  population: z.number().int().min(2).default(8),
  elites: z.number().int().min(0).default(2),
  mutationRate: z.number().gt(0).lt(1).default(0.2),
  /** Fraction of the population a tournament draws (its best member is the parent). */
  tournament: z.number().gt(0).max(1).default(0.9),
  ...runOptionsShape,
});
export type EvoSearchOptions<S> = Omit<z.input<typeof EvoSearchOptions>, 'proposer' | 'scorer'> & {
  proposer: NoiseProposer<S>;
  scorer: Scorer<S>;
};

export function evoSearch<S>(options: EvoSearchOptions<S>): Strategy<NoiseSample<S>> {
  const o = parseOptions(EvoSearchOptions, options, 'evoSearch');
  if (o.elites >= o.population) {
    throw new ScalingError(
      'options',
      `evoSearch: option 'elites' (${o.elites}) must be below 'population' (${o.population})`,
    );
  }
  const proposer = o.proposer as NoiseProposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const nfe = nfeOf(proposer);
  if (o.budget < o.population * nfe) {
    throw new ScalingError(
      'budget',
      `evoSearch: budget ${o.budget} NFE cannot pay for one population (${o.population} × ${nfe} NFE)`,
    );
  }
  const beta = o.mutationRate;
  const keep = Math.sqrt(1 - beta * beta);
  const subset = Math.max(1, Math.round(o.tournament * o.population));
  return defineStrategy<NoiseSample<S>>({
    name: 'evosearch',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const initial = Array.from({ length: o.population }, () => ctx.rng().normal(proposer.dim));
      let pop: Candidate<NoiseSample<S>>[] = await evaluateNoises(ctx, proposer, scorer, initial, 0);
      let best = bestOf(pop);
      yield { step: 0, active: pop.length, bestScore: best.score };
      const children = o.population - o.elites;
      for (let gen = 1; ctx.remaining >= children * nfe; gen++) {
        const rng = ctx.rng();
        const ranked = pop.slice().sort((a, b) => (b.score as number) - (a.score as number) || a.id - b.id);
        const elites = ranked.slice(0, o.elites);
        const parents: Candidate<NoiseSample<S>>[] = [];
        for (let i = 0; i < children; i++) {
          // Tournament: a random subset (partial Fisher–Yates), its best member.
          const idx = pop.map((_, k) => k);
          const u = rng.uniform(subset);
          for (let k = 0; k < subset; k++) {
            const j = k + Math.floor(u[k] * (idx.length - k));
            [idx[k], idx[j]] = [idx[j], idx[k]];
          }
          parents.push(bestOf(idx.slice(0, subset).map((k) => pop[k])));
        }
        const noises = parents.map((p) => {
          const e = rng.normal(proposer.dim);
          return p.state.noise.map((z, i) => keep * z + beta * e[i]);
        });
        const kids = await evaluateNoises(
          ctx,
          proposer,
          scorer,
          noises,
          gen,
          parents.map((p) => p.id),
        );
        for (const p of pop) if (!elites.includes(p)) p.status = 'pruned';
        pop = [...elites, ...kids];
        const genBest = bestOf(pop);
        if ((genBest.score as number) > (best.score as number)) best = genBest;
        ctx.decide(gen, 'generation', {
          elites: elites.map((e) => e.id),
          parents: parents.map((p) => p.id),
          best: genBest.id,
        });
        yield { step: gen, active: pop.length, bestScore: best.score };
      }
      ctx.best = best.id;
      ctx.decide(best.step, 'select', { rule: 'best sample seen', candidate: best.id, score: best.score });
    },
  });
}
