/**
 * @file Timestep (σ) schedule search at a fixed number of function evaluations, in the style of S³
 * (E. Liu, Ning, Yang & Wang, "A Unified Sampling Framework for Solver Searching of Diffusion
 * Probabilistic Models", ICLR 2024, arXiv 2312.07243: per-step timesteps and solver strategies found
 * by a predictor-based multi-stage search) and AutoDiffusion (L. Li et al., "AutoDiffusion:
 * Training-Free Optimization of Time Steps and Architectures for Automated Diffusion Model
 * Acceleration", ICCV 2023, arXiv 2309.10438: an evolutionary search over the timestep sequence
 * scored by a cheap quality measure on calibration samples). Here a genetic search (`genetic.ts`)
 * scores each candidate directly on a small calibration set: the RMS distance of the sampler's
 * output to a reference from the same noise and conditioning, by default the same sampler at 100
 * steps of its default spacing, or given samples (e.g. the exact ODE solution of a Gaussian mixture).
 *
 * Genome: the NFE − 1 free noise levels as u ∈ [0, 1), descending, with σ_VE = exp(log σ_min +
 * u·(log σ_hi − log σ_min)) (σ_VE = σ for VP schedulers, σ/(1 − σ) for flow matching, so u is the
 * log-SNR position). The first level is fixed at the scheduler's σ_max (where the initial noise
 * lives) and the last step goes to σ = 0, as with the default schedules, so every candidate costs
 * the same NFE. Operators: arithmetic crossover and multi-scale Gaussian mutation, then sorted and
 * kept ≥ 1e-3 apart. Generation 0 holds the default spacing, Karras (ρ = 7) and log-SNR-uniform
 * spacing at the same NFE. Not searched (S³ does): the solver order and its coefficients per step.
 *
 * The result is a JSON preset (`TimestepSchedulePreset`) whose `sigmas` a scheduler takes as
 * `setTimesteps({ sigmas })` (or `sample(..., { ...timestepPresetOptions(preset) })`).
 */
import { z } from 'zod';
import { sample } from '../sample';
import { karrasSigmas } from '../schedules/sigmas';
import type { Denoiser, SampleLike, Scheduler } from '../types';
import { f64, parseOptions } from '../util';
import { GeneticOptions, type GeneticProblem, geneticSearch } from './genetic';
import { parsePreset } from './preset';

const NAME = 'timestepSearch';
const GAP = 1e-3;

const SampleArray = z.custom<SampleLike>(
  (v) => v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v),
  { message: 'expected a Float64Array, Float32Array or number array' },
);

export const TimestepSearchOptions = z.strictObject({
  /** Any denoiser for the scheduler (its conditioning type is the caller's). */
  denoiser: z.custom<Denoiser<never>>((v) => typeof v === 'function' && 'predictionType' in v, {
    message: 'expected a Denoiser',
  }),
  modelName: z.string().min(1).default('model'),
  sampler: z.string().min(1),
  /** A fresh scheduler of the sampler; it must accept `setTimesteps({ sigmas })`. */
  scheduler: z.custom<() => Scheduler>((v) => typeof v === 'function', { message: 'expected a function' }),
  /** Model calls per sample (the scheduler's steps; first-order and multistep samplers: NFE = steps). */
  nfe: z.number().int().min(2),
  /** How the scheduler reads sigmas: 'flow' (N values in (0, 1], 0 appended) or 'vp' (N + 1 values, the last 0). */
  space: z.enum(['flow', 'vp']),
  /** Smallest noise level the search may place (σ of the scheduler's space). Default: flow 1e-3, VP 2e-3. */
  sigmaMin: z.number().positive().optional(),
  calibration: z.strictObject({
    noise: SampleArray,
    dim: z.number().int().positive(),
    cond: z.array(z.unknown()).optional(),
    guidanceScale: z.number().default(1),
  }),
  /** What the output is compared with: the same sampler at `steps` default-spaced steps, or given samples. */
  reference: z
    .union([
      z.strictObject({ steps: z.number().int().positive() }),
      z.strictObject({ samples: SampleArray, label: z.string().min(1) }),
    ])
    .default({ steps: 100 }),
  /** Extra σ lists (in setTimesteps' format) for generation 0. */
  seedSigmas: z.array(z.array(z.number())).optional(),
  search: GeneticOptions.optional(),
});
export type TimestepSearchOptions = z.input<typeof TimestepSearchOptions>;

export const TimestepSchedulePreset = z
  .strictObject({
    kind: z.literal('hasten.timestep-schedule/1'),
    method: z.literal('timestep-search'),
    model: z.string().min(1),
    sampler: z.string().min(1),
    nfe: z.number().int().positive(),
    space: z.enum(['flow', 'vp']),
    guidanceScale: z.number(),
    /** For `setTimesteps({ sigmas })`: flow: nfe values in (0, 1]; VP: nfe + 1 values ending in 0. */
    sigmas: z.array(z.number().nonnegative()).min(2),
    calibration: z.strictObject({
      items: z.number().int().positive(),
      reference: z.string().min(1),
      /** RMS distance to the reference of the found schedule and of the sampler's default spacing. */
      rms: z.number().nonnegative(),
      defaultRms: z.number().nonnegative(),
    }),
    search: z.strictObject({
      evaluations: z.number().int().nonnegative(),
      generations: z.number().int().nonnegative(),
      populationSize: z.number().int().positive(),
      seed: z.number().int().nonnegative(),
    }),
  })
  .superRefine((p, ctx) => {
    const want = p.space === 'flow' ? p.nfe : p.nfe + 1;
    if (p.sigmas.length !== want)
      ctx.addIssue({
        code: 'custom',
        path: ['sigmas'],
        message: `has ${p.sigmas.length} values; ${p.space} at nfe ${p.nfe} needs ${want}`,
      });
    p.sigmas.forEach((s, i) => {
      if (i > 0 && !(s < p.sigmas[i - 1]))
        ctx.addIssue({
          code: 'custom',
          path: ['sigmas', i],
          message: `${s} is not below the previous value`,
        });
    });
    if (p.space === 'vp' && p.sigmas[p.sigmas.length - 1] !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['sigmas', p.sigmas.length - 1],
        message: 'the final VP sigma must be 0',
      });
    if (p.space === 'flow' && p.sigmas[0] > 1)
      ctx.addIssue({ code: 'custom', path: ['sigmas', 0], message: 'flow sigmas must be ≤ 1' });
  });
export type TimestepSchedulePreset = z.output<typeof TimestepSchedulePreset>;

export interface TimestepSearchResult {
  preset: TimestepSchedulePreset;
  history: { generation: number; evaluations: number; rms: number }[];
}

/** Reads and validates a timestep-schedule preset (object or JSON text). */
export function loadTimestepPreset(json: unknown): TimestepSchedulePreset {
  return parsePreset('timestep schedule preset', TimestepSchedulePreset, json);
}

/**
 * `{ sigmas }` for `sample()` or `scheduler.setTimesteps()` from a preset, after checking it against
 * what the caller runs (model name, sampler, when given).
 */
export function timestepPresetOptions(
  json: unknown,
  expect: { model?: string; sampler?: string } = {},
): { sigmas: number[] } {
  const p = loadTimestepPreset(json);
  for (const k of ['model', 'sampler'] as const)
    if (expect[k] !== undefined && expect[k] !== p[k])
      throw new Error(`timestep schedule preset: field '${k}' is ${p[k]}, the caller runs ${expect[k]}`);
  return { sigmas: [...p.sigmas] };
}

/** Searches a σ schedule at fixed NFE (see the file comment). */
export async function timestepSearch(options: TimestepSearchOptions): Promise<TimestepSearchResult> {
  const o = parseOptions(NAME, TimestepSearchOptions, options);
  const n = o.nfe;
  const flow = o.space === 'flow';
  const probe = o.scheduler();
  probe.setTimesteps({ steps: n });
  if (probe.timesteps.length !== n)
    throw new Error(
      `${NAME}: the scheduler makes ${probe.timesteps.length} model calls for ${n} steps; use a sampler with one call per step`,
    );
  const defaultSigmas = Array.from(flow ? probe.sigmas.subarray(0, n) : probe.sigmas);
  const sigmaMax = flow ? 1 : probe.sigmas[0];
  const sigmaMin = o.sigmaMin ?? (flow ? 1e-3 : 2e-3);
  // Work in σ_VE = σ (VP) or σ/(1 − σ) (flow); the free levels lie in [σ_min, σ_hi).
  const toVe = (s: number) => (flow ? s / (1 - s) : s);
  const fromVe = (v: number) => (flow ? v / (1 + v) : v);
  const lo = Math.log(toVe(sigmaMin));
  const hi = Math.log(flow ? toVe(0.999) : sigmaMax);
  if (!(hi > lo)) throw new Error(`${NAME}: option 'sigmaMin' ${sigmaMin} is not below σ_max ${sigmaMax}`);
  const sigmasOf = (u: Float64Array): number[] => {
    const free = Array.from(u, (v) => fromVe(Math.exp(lo + v * (hi - lo))));
    return flow ? [1, ...free] : [sigmaMax, ...free, 0];
  };
  const genomeOf = (sigmas: readonly number[]): Float64Array => {
    const free = sigmas.slice(1, n);
    if (free.length !== n - 1)
      throw new Error(`${NAME}: a seed σ list needs ${flow ? n : n + 1} values, got ${sigmas.length}`);
    return fix(Float64Array.from(free, (s) => (Math.log(toVe(Math.max(s, 1e-12))) - lo) / (hi - lo)));
  };

  const batch = (o.calibration.cond ?? []).length || f64(o.calibration.noise).length / o.calibration.dim;
  const noise = f64(o.calibration.noise);
  if (!Number.isInteger(batch) || noise.length !== batch * o.calibration.dim)
    throw new Error(
      `${NAME}: option 'calibration.noise' has ${noise.length} values, not items · dim (dim ${o.calibration.dim})`,
    );
  const base = {
    batch,
    dim: o.calibration.dim,
    noise,
    cond: o.calibration.cond,
    guidanceScale: o.calibration.guidanceScale,
  };
  const run = (s: { steps: number } | { sigmas: number[] }) =>
    sample(o.scheduler(), o.denoiser as Denoiser<unknown[]>, { ...base, ...s }).sample;
  let reference: Float64Array;
  let referenceLabel: string;
  if ('samples' in o.reference) {
    reference = f64(o.reference.samples);
    referenceLabel = o.reference.label;
    if (reference.length !== noise.length)
      throw new Error(
        `${NAME}: option 'reference.samples' has ${reference.length} values, the noise ${noise.length}`,
      );
  } else {
    reference = run({ steps: o.reference.steps });
    referenceLabel = `${o.sampler}, ${o.reference.steps} steps (default spacing)`;
  }
  const rmsOf = (schedule: { steps: number } | { sigmas: number[] }): number => {
    let x: Float64Array;
    try {
      x = run(schedule);
    } catch {
      return Infinity;
    }
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (x[i] - reference[i]) ** 2;
    const r = Math.sqrt(s / x.length);
    return Number.isFinite(r) ? r : Infinity;
  };
  const defaultRms = rmsOf({ steps: n });

  const karras = Array.from(karrasSigmas(sigmaMin, flow ? toVe(0.999) : sigmaMax, n), fromVe);
  const seeds = [
    genomeOf(defaultSigmas),
    genomeOf(flow ? [1, ...karras.slice(1)] : [sigmaMax, ...karras.slice(1), 0]),
    fix(Float64Array.from({ length: n - 1 }, (_, i) => 1 - (i + 1) / (n - 1))),
    ...(o.seedSigmas ?? []).map(genomeOf),
  ];
  const problem: GeneticProblem<Float64Array> = {
    initial: seeds,
    key: (g) => Array.from(g, (v) => v.toFixed(6)).join(','),
    random(r) {
      return fix(r.uniform(n - 1));
    },
    crossover(a, b, r) {
      const w = r.uniform(1)[0] * 1.5 - 0.25;
      return fix(a.map((v, i) => v + w * (b[i] - v)));
    },
    mutate(a, r) {
      const g = a.slice();
      const scale = 0.1 * 2 ** -Math.floor(r.uniform(1)[0] * 4);
      const u = r.uniform(g.length);
      const z = r.normal(g.length);
      let moved = false;
      for (let i = 0; i < g.length; i++)
        if (u[i] < 1.5 / g.length) {
          g[i] += scale * z[i];
          moved = true;
        }
      if (!moved) {
        const i = Math.min(g.length - 1, Math.floor(u[0] * g.length));
        g[i] += scale * z[i];
      }
      return fix(g);
    },
    evaluate: (g) => rmsOf({ sigmas: sigmasOf(g) }),
  };
  const result = await geneticSearch(problem, o.search ?? {});
  const best = result.best;
  const preset: TimestepSchedulePreset = {
    kind: 'hasten.timestep-schedule/1',
    method: 'timestep-search',
    model: o.modelName,
    sampler: o.sampler,
    nfe: n,
    space: o.space,
    guidanceScale: o.calibration.guidanceScale,
    sigmas: sigmasOf(best.genome),
    calibration: { items: batch, reference: referenceLabel, rms: best.objectives[0], defaultRms },
    search: {
      evaluations: result.evaluations,
      generations: result.generations,
      populationSize: o.search?.populationSize ?? 16,
      seed: o.search?.seed ?? 0,
    },
  };
  return {
    preset,
    history: result.history.map((h) => ({
      generation: h.generation,
      evaluations: h.evaluations,
      rms: h.best[0],
    })),
  };
}

/** Sorted descending, inside [0, 1 − GAP], neighbours at least GAP apart. */
function fix(g: Float64Array): Float64Array {
  const s = Float64Array.from(g, (v) => (Number.isFinite(v) ? v : 0))
    .sort()
    .reverse();
  const m = s.length;
  for (let i = 0; i < m; i++) s[i] = Math.min(Math.max(s[i], (m - 1 - i) * GAP), 1 - (i + 1) * GAP);
  for (let i = 1; i < m; i++) if (s[i] > s[i - 1] - GAP) s[i] = s[i - 1] - GAP;
  return s;
}
