/**
 * @file Small helpers shared by the schedulers: f64 buffer conversion, option parsing with the
 * scheduler's name in the error, and noise drawing from a Philox generator or a given buffer.
 */
import { parseOptionsWith } from '@hasten/core-tensor';
import type { z } from 'zod';
import type { Sample, SampleLike, SetTimestepsOptions, StepOptions } from './types';

export function f64(x: SampleLike): Sample {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

export function parseOptions<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new Error(`${name}: ${problem}`));
}

/** Noise for a stochastic step: the caller's buffer, else `generator.normal(n)`; neither is an error. */
export function drawNoise(name: string, n: number, options: StepOptions | undefined): Sample {
  if (options?.noise !== undefined) {
    if (options.generator !== undefined) throw new Error(`${name}: pass either noise or generator, not both`);
    if (options.noise.length !== n)
      throw new Error(`${name}: noise has ${options.noise.length} values, sample has ${n}`);
    return f64(options.noise);
  }
  if (options?.generator === undefined) {
    throw new Error(`${name}: a stochastic step needs options.noise or options.generator (a seeded Philox)`);
  }
  return options.generator.normal(n);
}

export function checkSameLength(name: string, a: SampleLike, b: SampleLike, what: string): void {
  if (a.length !== b.length)
    throw new Error(`${name}: ${what} has ${a.length} values, sample has ${b.length}`);
}

/**
 * Index of `t` in `timesteps`: the only match, or the second when there are several (diffusers'
 * index_for_timestep: starting mid-schedule, e.g. img2img with Heun's repeated timesteps, must not
 * skip a sigma).
 */
export function indexOfTimestep(name: string, timesteps: Float64Array, t: number): number {
  let first = -1;
  for (let i = 0; i < timesteps.length; i++) {
    if (timesteps[i] !== t) continue;
    if (first >= 0) return i;
    first = i;
  }
  if (first >= 0) return first;
  throw new Error(`${name}: timestep ${t} is not in the schedule (${timesteps.length} steps)`);
}

/**
 * setTimesteps' argument as options, with exactly one of steps, timesteps and sigmas; `mu` (dynamic
 * flow shift) only where the scheduler takes it.
 */
export function timestepRequest(
  name: string,
  options: SetTimestepsOptions | number,
  allowMu: boolean,
): SetTimestepsOptions {
  const o = typeof options === 'number' ? { steps: options } : options;
  if (
    [o.steps, o.timesteps, o.sigmas].filter((v) => v !== undefined).length !== 1 ||
    (!allowMu && o.mu !== undefined)
  ) {
    throw new Error(`${name}: setTimesteps needs exactly one of steps, timesteps, sigmas`);
  }
  return o;
}
