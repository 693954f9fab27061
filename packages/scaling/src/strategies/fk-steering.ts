/**
 * @file FK steering (Singhal, Horvitz, Teehan et al., "A General Framework for Inference-time Scaling
 * and Steering of Diffusion Models", arXiv 2501.06848; reference `fkd_class.py`). k particles run the
 * sampler (the step proposer: x_t → x_{t−1}) together. At the resampling steps
 * {tStart, tStart + every, ... ≤ tEnd} ∪ {final} (0-based step index), each particle's reward
 * r = scorer(state) (a reward on the x̂0 prediction) gives a potential log G
 * (particles/fk-potentials.ts: difference, max, sum, immediate; final correction exp(λ r)/∏G), its
 * log-weight grows by log G, and the particles are resampled multinomially ∝ exp(lw) — every time,
 * or only when ESS < essThreshold·k ('adaptive'); resampling resets the weights. Deviation from the
 * reference code: without resampling the weights accumulate (importance weighting proper) instead of
 * being dropped. Returns the final particle with the largest reward. Budget: k particles.
 */
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { duplicate, rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import { effectiveSampleSizeOfLogWeights } from '../particles/effective-sample-size';
import { FK_POTENTIALS, type FkParticleState, fkLogPotential } from '../particles/fk-potentials';
import { normalizeLogWeights } from '../particles/log-weights';
import { resampleMultinomial } from '../particles/resample-multinomial';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const FkSteeringOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** k, the number of particles. */
  budget: z.number().int().positive(),
  potential: z.enum(FK_POTENTIALS).default('max'),
  lambda: z.number().finite().default(10),
  every: z.number().int().positive().default(1),
  tStart: z.number().int().min(0).default(0),
  tEnd: z.number().int().min(0).default(Number.MAX_SAFE_INTEGER),
  adaptive: z.boolean().default(false),
  essThreshold: z.number().gt(0).max(1).default(0.5),
  /** Initial accumulated reward (the reference's reward_min_value). */
  rewardMin: z.number().finite().default(0),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type FkSteeringOptions<S> = Omit<z.input<typeof FkSteeringOptions>, 'proposer' | 'scorer'> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

interface FkParticle<S> {
  candidate: Candidate<S>;
  state: S;
  fk: FkParticleState;
  logWeight: number;
  reward?: number;
}

export function fkSteering<S>(options: FkSteeringOptions<S>): Strategy<S> {
  const o = parseOptions(FkSteeringOptions, options, 'fkSteering');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const k = o.budget;
  const scheduled = (idx: number) => idx >= o.tStart && idx <= o.tEnd && (idx - o.tStart) % o.every === 0;
  return defineStrategy<S>({
    name: 'fk-steering',
    unit: 'particles',
    budget: k,
    defaults: o,
    async *body(ctx) {
      ctx.spend(k);
      const root = await rootCandidate(ctx, proposer);
      let pool: FkParticle<S>[] = duplicate(proposer, root.state, k).map((state) => ({
        candidate: root,
        state,
        fk: { accumulated: o.rewardMin, logProduct: 0 },
        logWeight: 0,
      }));
      for (let step = 1; step <= o.maxSteps; step++) {
        const next = await Promise.all(pool.map((p) => ctx.propose(proposer, p.state)));
        const final = step === o.maxSteps || next.every((r) => proposer.done(r.state));
        const potentialStep = final || scheduled(step - 1);
        const rewards = potentialStep ? await Promise.all(next.map((r) => ctx.score(scorer, r.state))) : [];
        pool.forEach((p, i) => {
          p.state = next[i].state;
          if (potentialStep) {
            const { logG, next: fk } = fkLogPotential(o.potential, rewards[i], p.fk, o.lambda, final);
            p.fk = fk;
            p.logWeight += logG;
            p.reward = rewards[i];
          }
          p.candidate = ctx.add({
            parent: p.candidate.id,
            step,
            state: p.state,
            status: final ? 'complete' : 'active',
            ...(potentialStep ? { score: rewards[i], logWeight: p.logWeight } : {}),
          });
        });
        if (potentialStep) {
          const lw = Float64Array.from(pool, (p) => p.logWeight);
          const w = normalizeLogWeights(lw);
          pool.forEach((p, i) => {
            p.candidate.weight = w[i];
          });
          const ess = effectiveSampleSizeOfLogWeights(lw);
          if (!o.adaptive || ess < o.essThreshold * k) {
            const anc = resampleMultinomial(w, k, ctx.rng());
            const uses = new Int32Array(k);
            const old = pool;
            pool = Array.from(anc, (a) => {
              const src = old[a];
              const state = uses[a]++ === 0 || !proposer.fork ? src.state : proposer.fork(src.state);
              return { ...src, state, fk: { ...src.fk }, logWeight: 0 };
            });
            ctx.decide(step, 'resample', {
              ess,
              ancestors: Array.from(anc, (a) => old[a].candidate.id),
              final,
            });
          } else ctx.decide(step, 'skip-resample', { ess });
        }
        yield { step, active: final ? 0 : k, ...(potentialStep ? { bestScore: Math.max(...rewards) } : {}) };
        if (final) break;
      }
      let best = pool[0];
      for (const p of pool) if ((p.reward ?? -Infinity) > (best.reward ?? -Infinity)) best = p;
      ctx.best = best.candidate.id;
      if (proposer.answer && proposer.done(best.state)) ctx.answer = proposer.answer(best.state);
      ctx.decide(best.candidate.step, 'select', {
        rule: 'argmax final reward',
        candidate: best.candidate.id,
        reward: best.reward,
      });
    },
  });
}
