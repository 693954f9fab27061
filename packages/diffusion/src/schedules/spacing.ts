/**
 * @file Timestep spacing of discrete schedulers ("Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", Lin et al., arXiv 2305.08891, Table 2), with diffusers' exact formulas per family
 * (huggingface/diffusers:src/diffusers/schedulers/scheduling_ddim.py, scheduling_euler_discrete.py,
 * scheduling_dpmsolver_multistep.py, `set_timesteps`). T = training steps, N = inference steps:
 * - 'ddim' family (DDIM, DDPM, PNDM, LCM):
 *   linspace round(linspace(0, T−1, N))↓; leading arange(N)·(T div N)↓ + offset;
 *   trailing round(arange(T, 0, −T/N)) − 1.
 * - 'euler' family (Euler, Euler ancestral, Heun): linspace is linspace(0, T−1, N)↓ unrounded;
 *   leading and trailing as 'ddim'.
 * - 'multistep' family (DPM-Solver, UniPC, DEIS): linspace round(linspace(0, L−1, N+1))↓ without its
 *   last entry; leading arange(N+1)·(L div (N+1))↓ without its last entry + offset; trailing
 *   round(arange(L, 0, −T/N)) − 1; L = the last timestep kept by lambda_min_clipped (T by default).
 * numpy's round is half-to-even; `roundHalfEven` reproduces it.
 */
import { parseOptionsWith } from '@hasten/core-tensor';
import { z } from 'zod';
import { linspace } from './betas';

export const TimestepSpacing = z.enum(['linspace', 'leading', 'trailing']);
export type TimestepSpacing = z.infer<typeof TimestepSpacing>;
export type SpacingFamily = 'ddim' | 'euler' | 'multistep';

/** numpy.round (ties to even). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export const SpacingOptions = z.strictObject({
  family: z.enum(['ddim', 'euler', 'multistep']),
  stepsOffset: z.number().int().min(0).optional(),
  /** multistep family only: L (default T). */
  lastTimestep: z.number().int().positive().optional(),
});
export type SpacingOptions = z.input<typeof SpacingOptions>;

/** Descending timesteps for N inference steps out of T training steps. */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  T: number,
  N: number,
  options: SpacingOptions,
): Float64Array {
  const o = parseOptionsWith(SpacingOptions, options, (p) => new Error(`spacedTimesteps: ${p}`));
  if (!Number.isInteger(N) || N < 1)
    throw new Error(`spacedTimesteps: steps must be a positive integer, got ${N}`);
  const offset = o.stepsOffset ?? 0;
  const rev = (a: Float64Array) => a.slice().reverse();
  if (o.family === 'multistep') {
    const L = o.lastTimestep ?? T;
    if (spacing === 'linspace') return rev(linspace(0, L - 1, N + 1).map(roundHalfEven)).slice(0, N);
    if (spacing === 'leading') {
      const ratio = Math.floor(L / (N + 1));
      const a = Float64Array.from({ length: N + 1 }, (_, i) => i * ratio);
      return rev(a)
        .slice(0, N)
        .map((t) => t + offset);
    }
    return trailing(L, T / N);
  }
  if (spacing === 'linspace') {
    const a = rev(linspace(0, T - 1, N));
    return o.family === 'ddim' ? a.map(roundHalfEven) : a;
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    return rev(Float64Array.from({ length: N }, (_, i) => i * ratio + offset));
  }
  return trailing(T, T / N);
}

/** round(arange(start, 0, −step)) − 1, with numpy's arange length ceil(start/step). */
function trailing(start: number, step: number): Float64Array {
  const n = Math.ceil(start / step);
  return Float64Array.from({ length: n }, (_, i) => roundHalfEven(start - i * step) - 1);
}
