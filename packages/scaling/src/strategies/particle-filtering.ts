/**
 * @file Particle filtering for LLM reasoning (Puri et al., "A Probabilistic Inference Approach to
 * Inference-Time Scaling of LLMs using Particle-Based Monte Carlo Methods", arXiv 2502.01618;
 * its_hub `ParticleFiltering`): the PRM's score is the likelihood of a partial solution. N particles
 * step together; after each step a particle's log-weight is logit(PRM score of the prefix) (the
 * paper's `inverse_sigmoid(r)`; aggregation 'last' by default), the weights are
 *   p_i = softmax(lw / T)_i
 * (T = 1 by default, or a schedule), and N ancestors are resampled (multinomial by default, as in the
 * paper; systematic, stratified, residual available); finished particles keep their final weight
 * and stay in the pool. Stop when all are finished or after maxSteps; pick the particle with the
 * largest log-weight ('argmax', default) or draw one ∝ softmax(lw) ('sample'). The loop is in smc.ts.
 * Budget: N particles.
 */
import { z } from 'zod';
import {
  aggregationOption,
  maxStepsOption,
  proposerOption,
  scorerOption,
  temperatureOption,
} from '../common-options';
import { rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import { RESAMPLERS } from '../particles/resampler';
import type { TemperatureSchedule } from '../particles/temperature-schedule';
import { fixedTemperature } from '../particles/tempering-fixed';
import type { Proposer, Scorer } from '../proposer';
import { type SmcConfig, selectParticle, smcSweep, WEIGHTINGS } from '../smc';
import { defineStrategy, type Strategy } from '../strategy';

export const ParticleFilteringOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** N, the number of particles. */
  budget: z.number().int().positive(),
  resampler: z.enum(RESAMPLERS).default('multinomial'),
  temperature: temperatureOption,
  weighting: z.enum(WEIGHTINGS).default('logit'),
  aggregation: aggregationOption,
  select: z.enum(['argmax', 'sample']).default('argmax'),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type ParticleFilteringOptions<S> = Omit<
  z.input<typeof ParticleFilteringOptions>,
  'proposer' | 'scorer' | 'temperature'
> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
  temperature?: number | TemperatureSchedule;
};

/** The SMC configuration of parsed particle-filter options (shared with ePF and particle Gibbs). */
export function smcConfig<S>(o: z.output<typeof ParticleFilteringOptions>, particles: number): SmcConfig<S> {
  return {
    proposer: o.proposer as Proposer<S>,
    scorer: o.scorer as Scorer<S>,
    particles,
    maxSteps: o.maxSteps,
    resampler: o.resampler,
    temperature:
      typeof o.temperature === 'number'
        ? fixedTemperature(o.temperature)
        : (o.temperature as TemperatureSchedule),
    weighting: o.weighting,
    aggregation: o.aggregation,
  };
}

export function particleFilteringFrom<S>(
  o: z.output<typeof ParticleFilteringOptions>,
  name: string,
): Strategy<S> {
  const cfg = smcConfig<S>(o, o.budget);
  return defineStrategy<S>({
    name,
    unit: 'particles',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      ctx.spend(o.budget);
      const root = await rootCandidate(ctx, cfg.proposer);
      const pool = yield* smcSweep(ctx, cfg, root, 0);
      const pick = selectParticle(ctx, pool, o.select);
      const last = pick.path[pick.path.length - 1].candidate;
      ctx.best = last.id;
      if (cfg.proposer.answer && cfg.proposer.done(last.state)) ctx.answer = cfg.proposer.answer(last.state);
      ctx.decide(last.step, 'select', { rule: o.select, candidate: last.id, logWeight: pick.logWeight });
    },
  });
}

export function particleFiltering<S>(options: ParticleFilteringOptions<S>): Strategy<S> {
  return particleFilteringFrom<S>(
    parseOptions(ParticleFilteringOptions, options, 'particleFiltering'),
    'particle-filtering',
  );
}
