/**
 * @file The sequential Monte Carlo loop that particle filtering, entropic particle filtering and
 * particle Gibbs share (Puri et al., "A Probabilistic Inference Approach to Inference-Time Scaling of
 * LLMs using Particle-Based Monte Carlo Methods", arXiv 2502.01618; its_hub `ParticleFiltering`,
 * `ParticleGibbs`). N particles start at the proposer's initial state; each step:
 *  1. every unfinished particle proposes one step; the PRM scores the new prefix; its log-weight is
 *     lw = logit(agg(step scores)) ('logit', the paper's `inverse_sigmoid(r)`), log(agg) ('log': the
 *     scorer is a likelihood, which makes this the bootstrap filter), or agg itself ('score');
 *     finished particles keep their last weight and stay in the pool;
 *  2. if every particle is finished, stop; else resample N ancestors with p = softmax(lw / T_t)
 *     (T_t from the temperature schedule) and the chosen resampler; duplicates are forked, particles
 *     with no descendant released.
 * With a reference path (conditional SMC, Andrieu, Doucet & Holenstein 2010, JRSS-B 72(3)), slot 0
 * follows the reference instead of proposing and keeps its own ancestry; the other N − 1 ancestors are
 * drawn from all N particles.
 */
import { type Aggregation, aggregateScores } from './aggregate-scores';
import { ScalingError } from './errors';
import { effectiveSampleSizeOfLogWeights } from './particles/effective-sample-size';
import { logit, normalizeLogWeights } from './particles/log-weights';
import { type ResamplerName, resamplers } from './particles/resampler';
import type { TemperatureSchedule } from './particles/temperature-schedule';
import type { Proposer, Scorer } from './proposer';
import type { RunContext } from './run-context';
import type { Candidate } from './trace';

export const WEIGHTINGS = ['logit', 'log', 'score'] as const;
export type Weighting = (typeof WEIGHTINGS)[number];

export interface SmcConfig<S> {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
  particles: number;
  maxSteps: number;
  resampler: ResamplerName;
  temperature: TemperatureSchedule;
  weighting: Weighting;
  aggregation: Aggregation;
}

/** One point of a particle's path: the candidate it was at and its log-weight there. */
export interface PathPoint<S> {
  candidate: Candidate<S>;
  logWeight: number;
}

export interface Particle<S> {
  path: PathPoint<S>[];
  state: S;
  logWeight: number;
  done: boolean;
}

function weightOf(where: string, value: number, weighting: Weighting): number {
  if (weighting === 'score') return value;
  if (weighting === 'logit') return logit(value);
  if (!(value >= 0))
    throw new ScalingError('input', `${where}: weighting 'log' needs scores >= 0, got ${value}`);
  return Math.log(value);
}

/** Run one SMC sweep; returns the final particles (the pool the strategies select from). */
export async function* smcSweep<S>(
  ctx: RunContext<S>,
  cfg: SmcConfig<S>,
  root: Candidate<S>,
  sweep: number,
  reference?: PathPoint<S>[],
): AsyncGenerator<{ step: number; active: number; bestScore: number }, Particle<S>[], void> {
  const { proposer, scorer, particles: n } = cfg;
  const where = ctx.settings.strategy;
  const rootStates = [root.state];
  for (let i = 1; i < n; i++) rootStates.push(proposer.fork ? proposer.fork(root.state) : root.state);
  let pool: Particle<S>[] = rootStates.map((state) => ({
    path: [{ candidate: root, logWeight: 0 }],
    state,
    logWeight: 0,
    done: proposer.done(root.state),
  }));
  for (let step = 1; step <= cfg.maxSteps; step++) {
    const moving = pool.map((p, i) => ({ p, i })).filter(({ p, i }) => !p.done && !(reference && i === 0));
    const proposed = await Promise.all(
      moving.map(async ({ p }) => {
        const r = await ctx.propose(proposer, p.state);
        return { ...r, score: await ctx.score(scorer, r.state) };
      }),
    );
    moving.forEach(({ p }, k) => {
      const r = proposed[k];
      const parent = p.path[p.path.length - 1].candidate;
      const scores = [...(parent.scores ?? []), r.score];
      const lw = weightOf(where, aggregateScores(scores, cfg.aggregation), cfg.weighting);
      const done = proposer.done(r.state);
      const candidate = ctx.add({
        parent: parent.id,
        step,
        state: r.state,
        score: r.score,
        scores,
        logWeight: lw,
        status: done ? 'complete' : 'active',
        ...(done && proposer.answer ? { answer: proposer.answer(r.state) } : {}),
      });
      p.path = [...p.path, { candidate, logWeight: lw }];
      p.state = r.state;
      p.logWeight = lw;
      p.done = done;
    });
    if (reference) {
      const ref = pool[0];
      const point = reference[Math.min(step, reference.length - 1)];
      if (step < reference.length) {
        ref.path = [...ref.path, point];
        ref.state = point.candidate.state;
        ref.logWeight = point.logWeight;
      }
      ref.done = step >= reference.length - 1 && proposer.done(point.candidate.state);
    }
    const lw = Float64Array.from(pool, (p) => p.logWeight);
    const w = normalizeLogWeights(lw);
    pool.forEach((p, i) => {
      const last = p.path[p.path.length - 1].candidate;
      if (last.step === step && !(reference && i === 0)) last.weight = w[i];
    });
    yield { step, active: pool.filter((p) => !p.done).length, bestScore: Math.max(...lw) };
    if (pool.every((p) => p.done) || step === cfg.maxSteps) break;
    const temperature = cfg.temperature({ step: step - 1, maxSteps: cfg.maxSteps, logWeights: lw });
    const probs = normalizeLogWeights(lw, temperature);
    const rng = ctx.rng();
    const drawn = reference
      ? [0, ...resamplers[cfg.resampler](probs, n - 1, rng)]
      : [...resamplers[cfg.resampler](probs, n, rng)];
    ctx.decide(step, 'resample', {
      sweep,
      resampler: cfg.resampler,
      temperature,
      ess: effectiveSampleSizeOfLogWeights(lw),
      ancestors: drawn.map((a) => pool[a].path[pool[a].path.length - 1].candidate.id),
    });
    const uses = new Int32Array(n);
    const old = pool;
    pool = drawn.map((a) => {
      const src = old[a];
      const first = uses[a]++ === 0;
      const state = first || !proposer.fork ? src.state : proposer.fork(src.state);
      return { path: src.path, state, logWeight: src.logWeight, done: src.done };
    });
    // States are only distinct objects when the proposer forks; then a particle with no descendant
    // is released (its KV blocks go back to the pool).
    if (proposer.fork && proposer.release)
      old.forEach((p, i) => {
        if (uses[i] === 0) proposer.release?.(p.state);
      });
  }
  return pool;
}

/** Pick the final particle: argmax log-weight (first on ties) or a draw ∝ softmax(lw). */
export function selectParticle<S>(
  ctx: RunContext<S>,
  pool: Particle<S>[],
  how: 'argmax' | 'sample',
): Particle<S> {
  const lw = Float64Array.from(pool, (p) => p.logWeight);
  if (how === 'argmax') {
    let b = 0;
    for (let i = 1; i < lw.length; i++) if (lw[i] > lw[b]) b = i;
    return pool[b];
  }
  const [i] = ctx.rng().categorical(normalizeLogWeights(lw), { probs: true });
  return pool[i];
}

/** The outcome of a weighted majority vote over the final particles. */
export interface WeightedMajority<S> {
  /** The winning answer. */
  answer: string;
  /** Its share of the normalised weight softmax(lw) of the whole pool (unfinished particles included). */
  support: number;
  /** The particle with the largest log-weight among those giving the answer (first on ties). */
  particle: Particle<S>;
}

/**
 * Weighted majority vote over the final particles: search-and-learn's weighted best-of-N
 * (`find_answer_with_largest_sum`) with the particle weights as the votes. Not the final-answer rule
 * of Puri et al.'s released code (arXiv 2502.01618) nor of its_hub, which output the argmax or a
 * draw (`selectParticle`). Particle i votes for its
 * answer with w_i = softmax(lw)_i, the weight its_hub's 'sample' selection draws with, so
 *   a* = argmax_a Σ_{i: done, answer_i = a} w_i,
 * the mode of the answer distribution that the particle approximation gives (duplicates from
 * resampling vote once each). Only finished particles vote; undefined when none has finished.
 * Ties go to the answer seen first in pool order.
 */
export function weightedMajority<S>(
  pool: readonly Particle<S>[],
  answerOf: (state: S) => string,
): WeightedMajority<S> | undefined {
  if (pool.length === 0) return undefined;
  const w = normalizeLogWeights(Float64Array.from(pool, (p) => p.logWeight));
  const sums = new Map<string, { support: number; particle: Particle<S> }>();
  pool.forEach((p, i) => {
    if (!p.done) return;
    const a = answerOf(p.state);
    const entry = sums.get(a);
    if (!entry) sums.set(a, { support: w[i], particle: p });
    else {
      entry.support += w[i];
      if (p.logWeight > entry.particle.logWeight) entry.particle = p;
    }
  });
  let best: WeightedMajority<S> | undefined;
  for (const [answer, { support, particle }] of sums)
    if (!best || support > best.support) best = { answer, support, particle };
  return best;
}
