/**
 * @file Particle Gibbs (Puri et al., arXiv 2502.01618, `particle_gibbs.py`; its_hub `ParticleGibbs`;
 * the conditional SMC kernel of Andrieu, Doucet & Holenstein, "Particle Markov chain Monte Carlo
 * methods", JRSS-B 2010). The budget is particles × iterations: N = budget / iterations particles per
 * sweep. Sweep 1 is particle filtering (smc.ts); every later sweep is conditional SMC with a reference
 * path held in slot 0 (it does not propose, keeps its ancestry, and joins resampling with its
 * weights). After each sweep the next reference is drawn ∝ softmax(final log-weights). The answer is
 * the argmax final log-weight over all sweeps. Budget: particles × iterations.
 */
import { z } from 'zod';
import { ScalingError } from '../errors';
import { rootCandidate } from '../lineage';
import { parseOptions } from '../options';
import type { TemperatureSchedule } from '../particles/temperature-schedule';
import type { Proposer, Scorer } from '../proposer';
import { type Particle, type PathPoint, selectParticle, smcSweep } from '../smc';
import { defineStrategy, type Strategy } from '../strategy';
import { ParticleFilteringOptions, smcConfig } from './particle-filtering';

const ParticleGibbsOptions = ParticleFilteringOptions.extend({
  iterations: z.number().int().positive().default(4),
  /** 'argmax' over all sweeps, or 'sample': the last reference (no weighted majority here). */
  select: z.enum(['argmax', 'sample']).default('argmax'),
});
export type ParticleGibbsOptions<S> = Omit<
  z.input<typeof ParticleGibbsOptions>,
  'proposer' | 'scorer' | 'temperature'
> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
  temperature?: number | TemperatureSchedule;
};

export function particleGibbs<S>(options: ParticleGibbsOptions<S>): Strategy<S> {
  const o = parseOptions(ParticleGibbsOptions, options, 'particleGibbs');
  const n = Math.floor(o.budget / o.iterations);
  if (n < 2) {
    throw new ScalingError(
      'options',
      `particleGibbs: option 'budget' (${o.budget}) must give at least 2 particles per iteration (budget >= 2 × iterations = ${2 * o.iterations})`,
    );
  }
  const cfg = smcConfig<S>(o, n);
  return defineStrategy<S>({
    name: 'particle-gibbs',
    unit: 'particles',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      ctx.spend(n * o.iterations);
      const root = await rootCandidate(ctx, cfg.proposer);
      let reference: PathPoint<S>[] | undefined;
      let best: Particle<S> | undefined;
      for (let it = 0; it < o.iterations; it++) {
        const pool = yield* smcSweep(ctx, cfg, root, it, reference);
        for (const p of pool) if (!best || p.logWeight > best.logWeight) best = p;
        const ref = selectParticle(ctx, pool, 'sample');
        reference = ref.path;
        ctx.decide(it, 'reference', {
          sweep: it,
          candidate: ref.path[ref.path.length - 1].candidate.id,
          logWeight: ref.logWeight,
        });
      }
      const pick =
        o.select === 'argmax'
          ? best!
          : { path: reference!, logWeight: reference![reference!.length - 1].logWeight };
      const last = pick.path[pick.path.length - 1].candidate;
      ctx.best = last.id;
      if (cfg.proposer.answer && cfg.proposer.done(last.state)) ctx.answer = cfg.proposer.answer(last.state);
      ctx.decide(last.step, 'select', {
        rule: o.select === 'argmax' ? 'argmax over sweeps' : 'last reference',
        candidate: last.id,
      });
    },
  });
}
