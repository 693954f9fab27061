import { readFileSync } from 'node:fs';
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep';
import { DPMSolverV3Scheduler } from './dpm-solver-v3';
import {
  type ComputeDpmSolverV3EmsOptions,
  computeDpmSolverV3Ems,
  degeneratedDpmSolverV3Ems,
  dpmSolverV3EmsToJson,
  type EmsProgress,
  loadDpmSolverV3Ems,
} from './dpm-solver-v3-ems';

const ac = new DPMSolverMultistepScheduler().alphasCumprod;

describe('computeDpmSolverV3Ems', () => {
  it('l is the closed form σ²/(α²s² + σ²) for a diagonal Gaussian target', () => {
    // One component N(μ, diag(s²)): ∂ε/∂x is diagonal, so Hutchinson's estimate is exact and only
    // the finite difference is approximate.
    const stds = [0.5, 1.5, 1];
    const mix = new GaussianMixture({ weights: [1], means: [[0.3, -1, 2]], stds: [stds] });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon');
    const ems = computeDpmSolverV3Ems(den, {
      batch: 8,
      dim: 3,
      generator: rng(1),
      gridSize: 40,
      fdStep: 1e-4,
    });
    expect(ems.lambdas).toHaveLength(41);
    ems.lambdas.forEach((lam, k) => {
      const a2 = 1 / (1 + Math.exp(-2 * lam));
      const s2 = 1 - a2;
      stds.forEach((s, d) => {
        expect(Math.abs(ems.l[k][d] - s2 / (a2 * s * s + s2))).toBeLessThan(1e-6);
      });
    });
  });

  it('s and b are the least-squares fit of f′ on f (per dimension) and pooling averages l', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon');
    const base: ComputeDpmSolverV3EmsOptions = { batch: 64, dim: 2, gridSize: 240, fdStep: 1e-4 };
    // smoothWindow 0: l′ is the plain central difference, as in the reference below
    const per = computeDpmSolverV3Ems(den, { ...base, generator: rng(4), smoothWindow: 0 });
    const pooled = computeDpmSolverV3Ems(den, {
      ...base,
      generator: rng(4),
      smoothWindow: 0,
      perDimension: false,
    });
    expect(pooled.dim).toBe(1);
    per.l.forEach((row, k) => {
      expect(pooled.l[k][0]).toBeCloseTo((row[0] + row[1]) / 2, 12);
    });
    // On a mixture l moves from 1 (pure noise: data prediction) towards 0 (clean: noise prediction).
    expect(per.l[0][0]).toBeGreaterThan(0.99);
    expect(per.l[240][0]).toBeLessThan(0.05);
    // A reference for one grid point from the trajectories themselves: run the same base sampler
    // and form f and f′ = df/dλ by differencing f along each trajectory (l′ from the EMS rows).
    const k = 120;
    const sched = new DPMSolverMultistepScheduler({ lowerOrderFinal: false });
    sched.setTimesteps({ sigmas: per.lambdas.map((l) => Math.exp(-l)) });
    let x = rng(4).normal(64 * 2);
    const states: Float64Array[] = [];
    for (let j = 0; j <= k + 1; j++) {
      states.push(x);
      const t = sched.timesteps[j];
      x = sched.step(den(x, t, null), t, x).prevSample;
    }
    const fOf = (j: number, lRow: number[]) => {
      const sv = Math.exp(-per.lambdas[j]);
      const a = 1 / Math.sqrt(1 + sv * sv);
      const e = den(states[j], sched.timesteps[j], null);
      return states[j].map((v, i) => (sv * a * e[i] - lRow[i % 2] * v) / a);
    };
    // f′ = d/dλ of f with l held at l_k (differenced along the trajectory), plus −l′x/α: the
    // chain rule the EMS use, evaluated the long way round.
    const lk = per.l[k];
    const lD = per.l[k + 1].map((v, d) => (v - per.l[k - 1][d]) / (per.lambdas[k + 1] - per.lambdas[k - 1]));
    const f = fOf(k, lk);
    const fp = fOf(k + 1, lk);
    const fm = fOf(k - 1, lk);
    const h = per.lambdas[k + 1] - per.lambdas[k - 1];
    for (let d = 0; d < 2; d++) {
      const fs: number[] = [];
      const fds: number[] = [];
      for (let b = 0; b < 64; b++) {
        const i = b * 2 + d;
        const alpha = 1 / Math.sqrt(1 + Math.exp(-2 * per.lambdas[k]));
        fs.push(f[i]);
        fds.push((fp[i] - fm[i]) / h - (lD[d] * states[k][i]) / alpha);
      }
      const mf = fs.reduce((a, v) => a + v, 0) / 64;
      const mfd = fds.reduce((a, v) => a + v, 0) / 64;
      const cov = fs.reduce((a, v, i) => a + (v - mf) * (fds[i] - mfd), 0) / 64;
      const vr = fs.reduce((a, v) => a + (v - mf) ** 2, 0) / 64;
      const s = cov / vr;
      // the EMS use d(x/α)/dλ = −e^{−λ}ε exactly, the reference differences x/α: O(Δλ²) apart
      // (measured 5e-4 at 240 grid intervals, 7e-3 at 60)
      expect(Math.abs(per.s[k][d] - s)).toBeLessThan(5e-3 * Math.max(1, Math.abs(s)));
      expect(Math.abs(per.b[k][d] - (mfd - s * mf))).toBeLessThan(5e-3 * Math.max(1, Math.abs(mfd)));
    }
  });

  it('reports progress, counts model calls and splits the batch', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon');
    const seen: EmsProgress[] = [];
    const opts: ComputeDpmSolverV3EmsOptions = {
      batch: 10,
      dim: 2,
      gridSize: 8,
      probes: 2,
      generator: rng(2),
    };
    const ems = computeDpmSolverV3Ems(den, { ...opts, maxBatch: 4, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // (G + 1)·(1 + 2·probes) calls, each split into ⌈10/4⌉ = 3 chunks
    expect(seen[8].modelCalls).toBe(9 * 5 * 3);
    expect(ems.calibration?.modelCalls).toBe(9 * 5 * 3);
    const whole = computeDpmSolverV3Ems(den, { ...opts, generator: rng(2) });
    ems.l.forEach((row, k) => {
      row.forEach((v, d) => {
        expect(v).toBeCloseTo(whole.l[k][d], 12);
      });
    });
  });

  it('validates options', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon');
    expect(() =>
      computeDpmSolverV3Ems(den, { batch: 2, dim: 2, steps: 5 } as ComputeDpmSolverV3EmsOptions),
    ).toThrow(/steps.*allowed: .*gridSize/);
    expect(() => computeDpmSolverV3Ems(den, { batch: 2, dim: 2, gridSize: 2, generator: rng(1) })).toThrow(
      /gridSize/,
    );
    expect(() => computeDpmSolverV3Ems(den, { batch: 2, dim: 2 })).toThrow(/noise or generator/);
    expect(() => computeDpmSolverV3Ems(den, { batch: 2, dim: 2, noise: [0, 0, 0] })).toThrow(/noise has 3/);
  });
});

describe('DPM-Solver-v3 EMS JSON', () => {
  it('round-trips through JSON and rejects malformed statistics naming the field', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon');
    const ems = computeDpmSolverV3Ems(den, {
      batch: 4,
      dim: 2,
      gridSize: 6,
      generator: rng(3),
      model: 'mixture',
    });
    expect(loadDpmSolverV3Ems(dpmSolverV3EmsToJson(ems))).toEqual(ems);
    const rounded = loadDpmSolverV3Ems(dpmSolverV3EmsToJson(ems, 6));
    expect(rounded.l[3][1]).toBeCloseTo(ems.l[3][1], 5);
    expect(() => loadDpmSolverV3Ems({ ...ems, extra: 1 })).toThrow(/extra/);
    expect(() => loadDpmSolverV3Ems({ ...ems, l: [...ems.l.slice(0, 2), [1], ...ems.l.slice(3)] })).toThrow(
      /l\.2.*row 2 has 1 values, dim is 2/,
    );
    expect(() => loadDpmSolverV3Ems({ ...ems, lambdas: [...ems.lambdas].reverse() })).toThrow(/ascending/);
    expect(() => loadDpmSolverV3Ems({ ...ems, kind: 'other' })).toThrow(/kind/);
    const deg = degeneratedDpmSolverV3Ems(-3, 4);
    expect(deg.l).toEqual([[1], [1]]);
    expect(deg.s).toEqual([[0], [0]]);
  });

  it('the glyph UNet preset loads and covers its training schedule', () => {
    const preset = loadDpmSolverV3Ems(
      readFileSync(new URL('../../presets/glyph-unet.dpm-solver-v3-ems.json', import.meta.url), 'utf8'),
    );
    expect(preset.model).toBe('glyph-unet');
    expect(preset.dim).toBe(1);
    // the UNet's schedule is the schedulers' default (linear betas 1e-4..0.02, 1000 steps)
    const v3 = new DPMSolverV3Scheduler({ ems: preset });
    v3.setTimesteps(10);
    expect(v3.timesteps[0]).toBe(999);
  });
});
