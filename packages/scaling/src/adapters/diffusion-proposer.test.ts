import { rng } from '@hasten/core-tensor';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  GaussianMixture,
  sample,
} from '@hasten/diffusion';
import { describe, expect, it } from 'vitest';
import { fkSteering } from '../strategies/fk-steering';
import { particleFiltering } from '../strategies/particle-filtering';
import { searchOverPaths } from '../strategies/search-over-paths';
import { runStrategy } from '../strategy';
import { type DiffusionState, diffusionProposer, tweedieReward } from './diffusion-proposer';

// A 2-D three-component mixture; component 2 (weight 0.15) is the one the stand-in reward favours.
const gm = new GaussianMixture({
  weights: [0.45, 0.4, 0.15],
  means: [
    [-2, 0],
    [2, 0],
    [0, 2.5],
  ],
  stds: [0.5, 0.5, 0.5],
  labels: [0, 1, 2],
});
const TARGET = 2;

/** log p(component = TARGET | x) under the mixture, written out (the stand-in for an image reward). */
function logResponsibility(x: Float64Array): number {
  const logs = [0, 1, 2].map((j) => {
    let l = Math.log(gm.w[j]);
    for (let i = 0; i < 2; i++) {
      const v = gm.v[j * 2 + i];
      const r = x[i] - gm.mu[j * 2 + i];
      l -= 0.5 * (Math.log(2 * Math.PI * v) + (r * r) / v);
    }
    return l;
  });
  const m = Math.max(...logs);
  const lse = m + Math.log(logs.reduce((a, l) => a + Math.exp(l - m), 0));
  return logs[TARGET] - lse;
}

const ddpm = () => new DDPMScheduler({ clipSample: false });
const ddim = () => new DDIMScheduler({ clipSample: false });
const vpDenoiser = () => gm.denoiser({ kind: 'vp', alphasCumprod: ddpm().alphasCumprod }, 'epsilon');

describe('diffusionProposer', () => {
  it('steps DDIM and Euler one call at a time exactly as the sample() loop does', () => {
    for (const make of [ddim, () => new EulerDiscreteScheduler()]) {
      const model = vpDenoiser();
      const p = diffusionProposer({ scheduler: make, denoiser: model, steps: 12, dim: 2 });
      const ctx = { rng: rng(3) };
      let s = p.initial(ctx) as DiffusionState;
      const probe = make();
      probe.setTimesteps(12);
      const z = s.x.map((v) => v / probe.initNoiseSigma);
      const trace: DiffusionState[] = [s];
      while (!p.done(s)) {
        s = p.propose(s, { rng: rng(trace.length) }) as DiffusionState;
        trace.push(s);
      }
      const ref = sample(make(), vpDenoiser(), { steps: 12, batch: 1, dim: 2, noise: z });
      expect(s.step).toBe(12);
      expect(s.nfe).toBe(12);
      expect(model.calls).toBe(12);
      expect(p.cost?.(trace[0], s)).toBe(12);
      for (let i = 0; i < 2; i++) expect(s.x[i]).toBeCloseTo(ref.sample[i], 10);
      // Once done, x̂0 is the sample itself.
      expect(Array.from(s.x0 as Float64Array)).toEqual(Array.from(s.x));
    }
  });

  it('applies classifier-free guidance as the sample() loop does (one batched call per step)', () => {
    const model = vpDenoiser();
    const p = diffusionProposer({
      scheduler: ddim,
      denoiser: model,
      steps: 8,
      dim: 2,
      cond: 2,
      guidanceScale: 3,
    });
    let s = p.initial({ rng: rng(9) }) as DiffusionState;
    const z = Float64Array.from(s.x);
    for (let k = 1; !p.done(s); k++) s = p.propose(s, { rng: rng(k) }) as DiffusionState;
    const ref = sample(ddim(), vpDenoiser(), {
      steps: 8,
      batch: 1,
      dim: 2,
      noise: z,
      cond: [2],
      guidanceScale: 3,
    });
    expect(model.calls).toBe(8);
    expect(s.nfe).toBe(8);
    for (let i = 0; i < 2; i++) expect(s.x[i]).toBeCloseTo(ref.sample[i], 10);
    // Guided towards class 2, the sample lands in its component.
    expect(gm.classify(s.x)[0]).toBe(2);
  });

  it('exposes the Tweedie estimate E[x0 | x_t] of the exact denoiser on partial states', () => {
    const p = diffusionProposer({ scheduler: ddim, denoiser: vpDenoiser(), steps: 10, dim: 2 });
    const root = p.initial({ rng: rng(5) }) as DiffusionState;
    expect(root.x0).toBeNull();
    const s1 = p.propose(root, { rng: rng(6) }) as DiffusionState;
    // The first step called the model at t = timesteps[0] on x_T: x̂0 is the posterior mean there.
    const t0 = root.t as number;
    const a = ddim().alphasCumprod[t0];
    const exact = gm.posteriorMean(root.x, Math.sqrt(a), Math.sqrt(1 - a), [null]);
    for (let i = 0; i < 2; i++) expect((s1.x0 as Float64Array)[i]).toBeCloseTo(exact[i], 8);
    // States are values: proposing did not touch the root.
    expect(root.step).toBe(0);
    expect(s1.step).toBe(1);
  });

  it('draws stochastic steps from the call generator (same rng, same step; another rng, another)', () => {
    const p = diffusionProposer({ scheduler: ddpm, denoiser: vpDenoiser(), steps: 10, dim: 2 });
    const root = p.initial({ rng: rng(1) }) as DiffusionState;
    const a = p.propose(root, { rng: rng(7) }) as DiffusionState;
    const b = p.propose(root, { rng: rng(7) }) as DiffusionState;
    const c = p.propose(root, { rng: rng(8) }) as DiffusionState;
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(a.x[0]).not.toBe(c.x[0]);
  });

  it('refuses schedulers with a history, unknown options and wrong shapes', () => {
    expect(() =>
      diffusionProposer({
        scheduler: () => new DPMSolverMultistepScheduler(),
        denoiser: vpDenoiser(),
        steps: 10,
        dim: 2,
      }),
    ).toThrow(/DPMSolverMultistepScheduler keeps a history/);
    expect(() =>
      diffusionProposer({ scheduler: ddim, denoiser: vpDenoiser(), steps: 10, dim: 2, stepz: 3 } as never),
    ).toThrow(/stepz/);
    const p = diffusionProposer({ scheduler: ddim, denoiser: vpDenoiser(), steps: 10, dim: 3 });
    const root = p.initial({ rng: rng(1) }) as DiffusionState;
    expect(() => p.propose(root, { rng: rng(2) })).toThrow(/3/);
  });

  // Plain sampling lands in the rewarded component with its weight (0.15; 400 draws: sd 0.018). FK
  // steering and particle filtering with the reward log p(target | x̂0) must move most of their final
  // population there (fixed seeds; thresholds: plain ≤ 0.22, steered ≥ 0.6).
  it('FK steering and particle filtering raise the share of samples in the rewarded component', async () => {
    const model = vpDenoiser();
    const p = diffusionProposer({ scheduler: ddpm, denoiser: model, steps: 20, dim: 2 });
    const inTarget = (x: Float64Array) => gm.classify(x)[0] === TARGET;

    let plain = 0;
    const draws = 400;
    for (let r = 0; r < draws; r++) {
      const g = rng(1000 + r);
      let s = p.initial({ rng: g.fold(0) }) as DiffusionState;
      for (let k = 1; !p.done(s); k++) s = p.propose(s, { rng: g.fold(k) }) as DiffusionState;
      if (inTarget(s.x)) plain++;
    }
    const plainShare = plain / draws;

    const scorer = tweedieReward(logResponsibility);
    const runs = 25;
    const k = 8;
    let fkHits = 0;
    let pfHits = 0;
    const before = model.calls;
    let proposeCalls = 0;
    for (let seed = 0; seed < runs; seed++) {
      const fk = await runStrategy(
        fkSteering({ proposer: p, scorer, budget: k, potential: 'difference', lambda: 2, maxSteps: 20 }),
        { seed },
      );
      proposeCalls += fk.calls.propose;
      // The final population: the ancestors the last (final-correction) resampling drew.
      const resamples = fk.decisions.filter((d) => d.kind === 'resample');
      const last = resamples[resamples.length - 1];
      expect(last.detail.final).toBe(true);
      for (const id of last.detail.ancestors as number[]) if (inTarget(fk.candidates[id].state.x)) fkHits++;

      const pf = await runStrategy(
        particleFiltering({ proposer: p, scorer, budget: k, weighting: 'score', maxSteps: 20 }),
        { seed },
      );
      proposeCalls += pf.calls.propose;
      const final = pf.candidates.filter((c) => c.step === 20);
      expect(final).toHaveLength(k);
      for (const c of final) if (inTarget(c.state.x)) pfHits += c.weight as number;
    }
    const fkShare = fkHits / (runs * k);
    const pfShare = pfHits / runs;
    // NFE: one denoiser call per proposer step.
    expect(model.calls - before).toBe(proposeCalls);
    expect(plainShare).toBeGreaterThan(0.08);
    expect(plainShare).toBeLessThan(0.22);
    expect(fkShare).toBeGreaterThan(0.6);
    expect(pfShare).toBeGreaterThan(0.6);
    console.log(
      `rewarded-component share: plain ${plainShare.toFixed(3)} (${draws} draws), FK steering ${fkShare.toFixed(3)}, particle filtering ${pfShare.toFixed(3)} (${runs} runs × ${k} particles)`,
    );
  });

  it('renoise follows the forward process q(x_s | x_t) (moments over seeded draws) and checks its input', () => {
    const p = diffusionProposer({ scheduler: ddpm, denoiser: vpDenoiser(), steps: 10, dim: 2 });
    const probe = ddpm();
    probe.setTimesteps(10);
    const ac = probe.alphasCumprod;
    let s = p.initial({ rng: rng(1) }) as DiffusionState;
    const states: DiffusionState[] = [s];
    for (let i = 0; i < 10; i++) {
      s = p.propose(s, { rng: rng(10 + i) }) as DiffusionState;
      states.push(s);
    }
    // From the final sample (ᾱ = 1) back 3 steps, and from step 6 back 4 steps.
    for (const [from, k] of [
      [10, 3],
      [6, 4],
    ] as const) {
      const st = states[from];
      const aFrom = st.t === null ? 1 : ac[st.t];
      const aTo = ac[probe.timesteps[from - k]];
      const mean = st.x.map((v) => Math.sqrt(aTo / aFrom) * v);
      const variance = 1 - aTo / aFrom;
      const n = 4000;
      const sum = [0, 0];
      const sq = [0, 0];
      for (let d = 0; d < n; d++) {
        const r = p.renoise(st, k, { rng: rng(1000 + d) });
        expect(r.step).toBe(from - k);
        expect(r.t).toBe(probe.timesteps[from - k]);
        expect(r.nfe).toBe(st.nfe);
        expect(r.x0).toBeNull();
        for (let i = 0; i < 2; i++) {
          sum[i] += r.x[i];
          sq[i] += (r.x[i] - mean[i]) ** 2;
        }
      }
      for (let i = 0; i < 2; i++) {
        // Mean within 4 standard errors; variance within 4 standard errors of a Gaussian's (√(2/n)·σ²).
        expect(Math.abs(sum[i] / n - mean[i])).toBeLessThan(4 * Math.sqrt(variance / n));
        expect(Math.abs(sq[i] / n - variance)).toBeLessThan(4 * Math.sqrt(2 / n) * variance);
      }
    }
    expect(() => p.renoise(states[2], 3, { rng: rng(0) })).toThrow(/steps must be an integer in \[1, 2\]/);
    const euler = diffusionProposer({
      scheduler: () => new EulerDiscreteScheduler(),
      denoiser: vpDenoiser(),
      steps: 4,
      dim: 2,
    });
    const e1 = euler.propose(euler.initial({ rng: rng(0) }) as DiffusionState, {
      rng: rng(1),
    }) as DiffusionState;
    expect(() => euler.renoise(e1, 1, { rng: rng(0) })).toThrow(/variance-preserving/);
  });

  it('search over paths runs on the proposer within its NFE budget and reproduces', async () => {
    const p = diffusionProposer({ scheduler: ddpm, denoiser: vpDenoiser(), steps: 10, dim: 2 });
    const make = () =>
      searchOverPaths({
        proposer: p,
        scorer: tweedieReward(logResponsibility),
        budget: 60,
        chains: 2,
        branches: 2,
        startSteps: 2,
        forward: 1,
        backward: 2,
      });
    const a = await runStrategy(make(), { seed: 5 });
    const b = await runStrategy(make(), { seed: 5 });
    expect(a.spent).toBeLessThanOrEqual(60);
    expect(a.spent).toBeGreaterThan(20);
    expect(a.best).toBeDefined();
    expect(b.candidates.map((c) => c.score)).toEqual(a.candidates.map((c) => c.score));
    // 2 chains × 2 start steps + 8 iterations × (2 chains × 2 branches × 2 steps) = 68 > 60: the budget
    // stops the search after 7 iterations, with the chains at step 2 + 7 = 9.
    expect(a.candidates[a.best as number].step).toBe(9);
    expect(a.spent).toBe(4 + 7 * 8);
  });
});
