/**
 * @file Particle filtering for LLM reasoning (Puri et al., "A Probabilistic Inference Approach to
 * Inference-Time Scaling of LLMs using Particle-Based Monte Carlo Methods", arXiv 2502.01618;
 * its_hub `ParticleFiltering`): the PRM's score is the likelihood of a partial solution. N particles
 * step together; after each step a particle's log-weight is logit(PRM score of the prefix) (the
 * paper's `inverse_sigmoid(r)`; aggregation 'last' by default), the weights are
 *   p_i = softmax(lw / T)_i
 * (T = 1 by default, or a schedule), and N ancestors are resampled (multinomial by default, as in the
 * paper; systematic, stratified, residual available); finished particles keep their final weight
 * and stay in the pool. Stop when all are finished or after maxSteps, then choose the output:
 *  - 'argmax' (default): the particle with the largest final log-weight, as the paper's code
 *    (probabilistic-inference-scaling `eval_script.ipynb`: argmax of the last reward over the final
 *    particles) and its_hub's `SelectionMethod.ARGMAX`;
 *  - 'sample': one particle drawn ∝ softmax(lw) (its_hub `SelectionMethod.SAMPLE`);
 *  - 'weighted-majority': weighted majority voting over the final particles' answers, each finished
 *    particle voting with its normalised weight softmax(lw)_i (smc.ts `weightedMajority`; needs
 *    `proposer.answer`); the output is the highest-weight particle with the winning answer. Falls
 *    back to 'argmax' when no particle has finished.
 * The loop is in smc.ts. Budget: N particles.
 */
import { z } from 'zod';
import {
  aggregationOption,
  maxStepsOption,
  proposerOption,
  scorerOption,
  temperatureOption,
} from '../common-options';
import { ScalingError } from '../errors';
import { rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import { RESAMPLERS } from '../particles/resampler';
import type { TemperatureSchedule } from '../particles/temperature-schedule';
import { fixedTemperature } from '../particles/tempering-fixed';
import type { Proposer, Scorer } from '../proposer';
import { type SmcConfig, selectParticle, smcSweep, WEIGHTINGS, weightedMajority } from '../smc';
import { defineStrategy, type Strategy } from '../strategy';

/** Final selections: argmax / sample (its_hub), weighted majority voting over answers. */
export const PF_SELECTIONS = ['argmax', 'sample', 'weighted-majority'] as const;

export const ParticleFilteringOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** N, the number of particles. */
  budget: z.number().int().positive(),
  resampler: z.enum(RESAMPLERS).default('multinomial'),
  temperature: temperatureOption,
  weighting: z.enum(WEIGHTINGS).default('logit'),
  aggregation: aggregationOption,
  /** How the output is chosen from the final particles (see the file comment). */
  select: z.enum(PF_SELECTIONS).default('argmax'),
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
  const answerOf = cfg.proposer.answer?.bind(cfg.proposer);
  if (o.select === 'weighted-majority' && !answerOf) {
    throw new ScalingError(
      'options',
      `${name}: option 'select' 'weighted-majority' needs a proposer with an answer(state) method (or use 'argmax' | 'sample')`,
    );
  }
  return defineStrategy<S>({
    name,
    unit: 'particles',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      ctx.spend(o.budget);
      const root = await rootCandidate(ctx, cfg.proposer);
      const pool = yield* smcSweep(ctx, cfg, root, 0);
      const vote =
        o.select === 'weighted-majority' && answerOf ? weightedMajority(pool, answerOf) : undefined;
      const pick = vote
        ? vote.particle
        : selectParticle(ctx, pool, o.select === 'weighted-majority' ? 'argmax' : o.select);
      const last = pick.path[pick.path.length - 1].candidate;
      ctx.best = last.id;
      if (answerOf && cfg.proposer.done(last.state)) ctx.answer = answerOf(last.state);
      ctx.decide(last.step, 'select', {
        rule:
          o.select === 'weighted-majority' && !vote
            ? 'weighted-majority (no finished particle: argmax)'
            : o.select,
        candidate: last.id,
        logWeight: pick.logWeight,
        ...(vote ? { answer: vote.answer, support: vote.support } : {}),
      });
    },
  });
}

export function particleFiltering<S>(options: ParticleFilteringOptions<S>): Strategy<S> {
  return particleFilteringFrom<S>(
    parseOptions(ParticleFilteringOptions, options, 'particleFiltering'),
    'particle-filtering',
  );
}
