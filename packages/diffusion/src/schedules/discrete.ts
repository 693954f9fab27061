/**
 * @file The timesteps and sigmas that diffusers' sigma-based discrete schedulers build in
 * `set_timesteps`, for two families:
 * - `eulerFamilySchedule` (EulerDiscrete, EulerAncestral, Heun; huggingface/diffusers:src/diffusers/
 *   schedulers/scheduling_euler_discrete.py): σ_i = interp(t_i, [0..T−1], σ_train), optionally
 *   re-spaced (Karras / exponential / beta between the ends, or `sigmaMin`/`sigmaMax`), timesteps of
 *   re-spaced sigmas from `sigmaToT` (fractional), and the final σ (0 or σ_train[0]) appended.
 * - `multistepSchedule` (DPM-Solver, UniPC, DEIS; scheduling_dpmsolver_multistep.py): the same with
 *   N+1-point spacing, re-spacing between σ_train[T−1] and σ_train[0], timesteps of Karras and
 *   λ-uniform sigmas rounded (except for the cosine schedule) and all timesteps cast to integers;
 *   or flow-matching sigmas σ = shift(1 − linspace(1, 1/T, N+1)) (use_flow_sigmas).
 * Custom sigmas (ours, for every family): timesteps are `sigmaToT` of each σ, left fractional, so
 * a model sees exactly the σ the solver uses.
 */
import { z } from 'zod';
import { vpSigmas } from './betas';
import { shiftSigma } from './flow';
import { betaSigmas, exponentialSigmas, interp, karrasSigmas, luLambdaSigmas, sigmaToT } from './sigmas';
import { spacedTimesteps, type TimestepSpacing } from './spacing';

export const SigmaSpacing = z.enum(['default', 'karras', 'exponential', 'beta', 'lu']);
export type SigmaSpacing = z.infer<typeof SigmaSpacing>;
export const FinalSigmasType = z.enum(['zero', 'sigma_min']);

export interface DiscreteSchedule {
  timesteps: Float64Array;
  /** length timesteps.length + 1 */
  sigmas: Float64Array;
}

export interface EulerFamilyOptions {
  alphasCumprod: Float64Array;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  sigmaSpacing: SigmaSpacing;
  sigmaMin?: number | undefined;
  sigmaMax?: number | undefined;
  finalSigmasType: 'zero' | 'sigma_min';
}

function checkCustomSigmas(name: string, s: readonly number[]): Float64Array {
  const a = Float64Array.from(s);
  if (a.length < 2) throw new Error(`${name}: sigmas needs at least 2 values (the last is the final sigma)`);
  a.forEach((v, i) => {
    if (!(v >= 0) || !Number.isFinite(v) || (i > 0 && v >= a[i - 1])) {
      throw new Error(`${name}: sigmas must be finite, ≥ 0 and strictly descending, got ${v} at ${i}`);
    }
  });
  return a;
}

export function customSigmaSchedule(
  name: string,
  sigmas: readonly number[],
  alphasCumprod: Float64Array,
): DiscreteSchedule {
  const s = checkCustomSigmas(name, sigmas);
  const logSigmas = vpSigmas(alphasCumprod).map(Math.log);
  return { sigmas: s, timesteps: s.slice(0, -1).map((v) => sigmaToT(v, logSigmas)) };
}

function respace(kind: SigmaSpacing, lo: number, hi: number, n: number): Float64Array | null {
  if (kind === 'karras') return karrasSigmas(lo, hi, n);
  if (kind === 'exponential') return exponentialSigmas(lo, hi, n);
  if (kind === 'beta') return betaSigmas(lo, hi, n);
  if (kind === 'lu') return luLambdaSigmas(lo, hi, n);
  return null;
}

export function eulerFamilySchedule(
  name: string,
  o: EulerFamilyOptions,
  req: { steps?: number | undefined; timesteps?: readonly number[] | undefined },
): DiscreteSchedule {
  const T = o.alphasCumprod.length;
  const train = vpSigmas(o.alphasCumprod);
  const logSigmas = train.map(Math.log);
  const grid = Float64Array.from({ length: T }, (_, i) => i);
  let timesteps: Float64Array;
  if (req.timesteps !== undefined) {
    if (o.sigmaSpacing !== 'default')
      throw new Error(`${name}: custom timesteps cannot be used with sigmaSpacing '${o.sigmaSpacing}'`);
    timesteps = Float64Array.from(req.timesteps);
  } else {
    timesteps = spacedTimesteps(o.timestepSpacing, T, req.steps as number, {
      family: 'euler',
      stepsOffset: o.stepsOffset,
    });
  }
  let sigmas: Float64Array = timesteps.map((t) => interp(t, grid, train));
  const re = respace(
    o.sigmaSpacing,
    o.sigmaMin ?? sigmas[sigmas.length - 1],
    o.sigmaMax ?? sigmas[0],
    sigmas.length,
  );
  if (re) {
    sigmas = re;
    timesteps = re.map((s) => sigmaToT(s, logSigmas));
  }
  const last = o.finalSigmasType === 'zero' ? 0 : train[0];
  const all = new Float64Array(sigmas.length + 1);
  all.set(sigmas);
  all[sigmas.length] = last;
  return { timesteps, sigmas: all };
}

export interface MultistepOptions {
  alphasCumprod: Float64Array;
  cosine: boolean;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  sigmaSpacing: SigmaSpacing;
  lambdaMinClipped: number;
  useFlowSigmas: boolean;
  flowShift: number;
  finalSigmasType: 'zero' | 'sigma_min';
}

export function multistepSchedule(
  name: string,
  o: MultistepOptions,
  req: { steps?: number | undefined; timesteps?: readonly number[] | undefined },
): DiscreteSchedule {
  const T = o.alphasCumprod.length;
  const train = vpSigmas(o.alphasCumprod);
  const logSigmas = train.map(Math.log);
  const grid = Float64Array.from({ length: T }, (_, i) => i);
  let timesteps: Float64Array;
  let sigmas: Float64Array;
  if (req.timesteps !== undefined) {
    if (o.sigmaSpacing !== 'default')
      throw new Error(`${name}: custom timesteps cannot be used with sigmaSpacing '${o.sigmaSpacing}'`);
    timesteps = Float64Array.from(req.timesteps);
    sigmas = timesteps.map((t) => interp(t, grid, train));
  } else {
    const n = req.steps as number;
    // lambda_min_clipped: drop the trailing training steps whose λ = −log σ is below the clip.
    let clipped = 0;
    for (let i = T - 1; i >= 0 && -logSigmas[i] < o.lambdaMinClipped; i--) clipped++;
    const last = T - clipped;
    timesteps = spacedTimesteps(o.timestepSpacing, T, n, {
      family: 'multistep',
      stepsOffset: o.stepsOffset,
      lastTimestep: last,
    });
    sigmas = timesteps.map((t) => interp(t, grid, train));
    if (o.useFlowSigmas) {
      sigmas = Float64Array.from({ length: n + 1 }, (_, i) => 1 - (1 + (i * (1 / T - 1)) / n))
        .map((s) => shiftSigma(s, o.flowShift))
        .reverse()
        .slice(0, n);
      timesteps = sigmas.map((s) => s * T);
    } else {
      const re = respace(o.sigmaSpacing, train[0], train[T - 1], n);
      if (re) {
        sigmas = re;
        const round = (o.sigmaSpacing === 'karras' || o.sigmaSpacing === 'lu') && !o.cosine;
        timesteps = re.map((s) => {
          const t = sigmaToT(s, logSigmas);
          return round ? Math.round(t) : t;
        });
      }
    }
    timesteps = timesteps.map(Math.trunc); // diffusers stores these timesteps as int64
  }
  const last = o.finalSigmasType === 'zero' ? 0 : train[0];
  const all = new Float64Array(sigmas.length + 1);
  all.set(sigmas);
  all[sigmas.length] = last;
  return { timesteps, sigmas: all };
}
