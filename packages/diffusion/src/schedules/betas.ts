/**
 * @file Beta schedules of discrete-time VP diffusion and their cumulative products, in f64.
 * - linear: β_i = linspace(β_start, β_end, T) (Ho et al., arXiv 2006.11239);
 * - scaled_linear: β_i = linspace(√β_start, √β_end, T)² (Stable Diffusion);
 * - squaredcos_cap_v2: β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999) with ᾱ(t) = cos²((t+0.008)/1.008·π/2)
 *   (Nichol & Dhariwal, arXiv 2102.09672);
 * - zero terminal SNR (Lin et al., arXiv 2305.08891, Algorithm 1): shift and scale √ᾱ so that its
 *   last value is 0 and its first is unchanged.
 * Same formulas as diffusers' schedulers (huggingface/diffusers:src/diffusers/schedulers/
 * scheduling_ddim.py, betas_for_alpha_bar and rescale_zero_terminal_snr); diffusers computes in f32,
 * this file in f64.
 */
import { z } from 'zod';

export const BetaSchedule = z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']);
export type BetaSchedule = z.infer<typeof BetaSchedule>;

/** numpy.linspace(a, b, n) in f64. */
export function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  out[n - 1] = b;
  return out;
}

/** β for `T` training steps. */
export function makeBetas(
  schedule: BetaSchedule,
  T: number,
  betaStart: number,
  betaEnd: number,
): Float64Array {
  if (schedule === 'linear') return linspace(betaStart, betaEnd, T);
  if (schedule === 'scaled_linear')
    return linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T).map((b) => b * b);
  return betasForAlphaBar(T);
}

/** Cosine schedule: discretise ᾱ(t) = cos²((t + 0.008)/1.008 · π/2) with β capped at `maxBeta`. */
export function betasForAlphaBar(T: number, maxBeta = 0.999): Float64Array {
  const abar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(T);
  for (let i = 0; i < T; i++) out[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), maxBeta);
  return out;
}

/** Rescale β to zero terminal SNR (arXiv 2305.08891, Algorithm 1). */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const T = betas.length;
  const sq = alphasCumprod(betas).map(Math.sqrt);
  const s0 = sq[0];
  const sT = sq[T - 1];
  const abar = sq.map((v) => ((v - sT) * s0) / (s0 - sT)).map((v) => v * v);
  const out = new Float64Array(T);
  out[0] = 1 - abar[0];
  for (let i = 1; i < T; i++) out[i] = 1 - abar[i] / abar[i - 1];
  return out;
}

/** ᾱ_i = Π_{j≤i} (1 − β_j). */
export function alphasCumprod(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= 1 - betas[i];
    out[i] = p;
  }
  return out;
}

/** VP noise levels σ_i = √((1 − ᾱ_i)/ᾱ_i) (the "VE view" of a VP model), ascending in i. */
export function vpSigmas(alphasCumprodValues: Float64Array): Float64Array {
  return alphasCumprodValues.map((a) => Math.sqrt((1 - a) / a));
}

/** The common VP setup of a discrete scheduler's config. */
export interface VpConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas?: number[] | undefined;
  rescaleBetasZeroSnr: boolean;
}

export const vpConfigShape = {
  numTrainTimesteps: z.number().int().min(2).default(1000),
  betaStart: z.number().positive().default(0.0001),
  betaEnd: z.number().positive().default(0.02),
  betaSchedule: BetaSchedule.default('linear'),
  trainedBetas: z.array(z.number().min(0).lt(1)).optional(),
  rescaleBetasZeroSnr: z.boolean().default(false),
};

/**
 * ᾱ of a config. With zero terminal SNR, ᾱ_{T−1} = 0 would give σ = ∞, so the sigma-based
 * schedulers set it to 2^-24 as diffusers does (`clampTerminal`).
 */
export function alphasCumprodOf(c: VpConfig, clampTerminal = false): Float64Array {
  let betas = c.trainedBetas
    ? Float64Array.from(c.trainedBetas)
    : makeBetas(c.betaSchedule, c.numTrainTimesteps, c.betaStart, c.betaEnd);
  if (c.rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
  const a = alphasCumprod(betas);
  if (c.rescaleBetasZeroSnr && clampTerminal) a[a.length - 1] = 2 ** -24;
  return a;
}
