/**
 * @file Shared set-up for sampler accuracy checks (tests and bench): the Gaussian-mixture targets,
 * a run of a scheduler from given noise, its exact probability-flow ODE counterpart from the same
 * initial state, and the empirical convergence order (least-squares slope of log error against
 * log steps).
 */
import { rng } from '@hasten/core-tensor';
import { sample } from '../sample';
import type { Denoiser, Scheduler, SetTimestepsOptions } from '../types';
import type { GaussianMixture, GaussianMixtureSpec } from './gaussian-mixture';

/** Three well-separated classes in 2-D (one component each). */
export const MIXTURE_2D: GaussianMixtureSpec = {
  weights: [0.2, 0.5, 0.3],
  means: [
    [-2.5, 0],
    [1.5, 1.5],
    [1, -2.5],
  ],
  stds: [0.4, [0.5, 0.3], 0.35],
  labels: [0, 1, 2],
};

/** Four classes in 16-D: random means (norm ≈ 3) and diagonal stds in [0.2, 0.6], fixed seed. */
export function mixture16d(seed = 16): GaussianMixtureSpec {
  const g = rng(seed);
  const K = 4;
  const d = 16;
  const z = g.normal(K * d);
  const u = g.uniform(K * d);
  return {
    weights: [0.1, 0.2, 0.3, 0.4],
    means: Array.from({ length: K }, (_, k) =>
      Array.from({ length: d }, (_, i) => (3 / Math.sqrt(d)) * z[k * d + i]),
    ),
    stds: Array.from({ length: K }, (_, k) => Array.from({ length: d }, (_, i) => 0.2 + 0.4 * u[k * d + i])),
    labels: [0, 1, 2, 3],
  };
}

/** Which state space a scheduler works in: VP x = αx0 + σε, VE x = x0 + σε, or flow x = (1−σ)x0 + σε. */
export type Space = 'vp' | 've' | 'flow';

export interface OdeComparison {
  /** Scheduler result and exact ODE solution, both in the scheduler's own space at its final σ. */
  result: Float64Array;
  exact: Float64Array;
  /** Root-mean-square difference per value. */
  rmse: number;
  nfe: number;
}

/**
 * Run `scheduler` with `denoiser` from standard-normal `z` (batch × dim) and solve the exact PF-ODE
 * from the same initial state to the same final σ (`scheduler.sigmas`, VE-view for vp/ve, flow σ).
 */
export function compareWithOde(
  mix: GaussianMixture,
  scheduler: Scheduler,
  denoiser: Denoiser<(number | null)[]>,
  space: Space,
  schedule: SetTimestepsOptions,
  z: Float64Array,
  odeSteps = 2000,
): OdeComparison {
  const batch = z.length / mix.dim;
  const r = sample(scheduler, denoiser, { ...schedule, batch, dim: mix.dim, noise: z });
  const sig = scheduler.sigmas;
  const s0 = sig[0];
  const s1 = sig[sig.length - 1];
  const x0 = z.map((v) => v * scheduler.initNoiseSigma);
  let exact: Float64Array;
  if (space === 'flow') {
    exact = mix.flowOdeSolve(x0, s0, s1, odeSteps);
  } else {
    const a0 = space === 'vp' ? 1 / Math.sqrt(1 + s0 * s0) : 1;
    const a1 = space === 'vp' ? 1 / Math.sqrt(1 + s1 * s1) : 1;
    exact = mix
      .odeSolve(
        x0.map((v) => v / a0),
        s0,
        s1,
        odeSteps,
      )
      .map((v) => v * a1);
  }
  let se = 0;
  for (let i = 0; i < exact.length; i++) se += (exact[i] - r.sample[i]) ** 2;
  return { result: r.sample, exact, rmse: Math.sqrt(se / exact.length), nfe: r.nfe };
}

/** −slope of log(error) against log(steps) by least squares: the empirical order of convergence. */
export function empiricalOrder(steps: number[], errors: number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return -num / den;
}
