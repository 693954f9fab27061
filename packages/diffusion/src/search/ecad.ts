/**
 * @file ECAD-style search of a static cache schedule (Aggarwal et al., "Evolutionary Caching to
 * Accelerate Your Off-the-Shelf Diffusion Model", ICLR 2026, arXiv 2506.15682,
 * aniaggarwal.github.io/ecad): a genetic algorithm over a binary table S ∈ {0,1}^{calls × blocks}
 * (1: compute block i at denoiser call k, 0: reuse its cached residual), scored on a calibration set
 * for one model, sampler and step count; the paper keeps a Pareto front of quality against compute.
 *
 * Here the quality is the MSE (reported as PSNR) of the cached sample against the uncached sample of
 * the same sampler, noise and conditioning on the calibration set; the compute is the fraction of
 * block evaluations. Two modes:
 *
 * - `'budget'` (default): every genome computes exactly round(computeFraction · calls · blocks) block
 *   evaluations (count-preserving crossover and swap mutation), so the search is single-objective at
 *   the given compute (tournament GA); the comparison with hand-set schedules is at equal compute.
 * - `'pareto'`: free genomes, NSGA-II on (MSE, compute fraction) as in ECAD; the preset returned is
 *   the front's best schedule within `computeFraction`, and the whole front comes back too.
 *
 * The first and the last call always compute every block (the cache engine's guards), so those rows
 * are fixed to 1. The found table is returned as a JSON preset (`CacheSchedulePreset`) that
 * `cachePresetPolicy` turns into a `staticSchedule` policy. Deviations from the paper: the
 * calibration metric is fidelity to the uncached model rather than ImageReward / CLIP on prompts
 * (the toy and glyph models have no text encoder or reward model in the loop), the table has one
 * component per block (no separate attention / MLP entries), the population is seeded with a
 * FORA-like uniform schedule at the budget, and only DiT-style models are searched (a UNet's reuse
 * runs must be balanced spans, which the operators here do not preserve).
 */
import { type Philox, rng } from '@hasten/core-tensor';
import { z } from 'zod';
import { type BlockDenoiser, fullForward } from '../block-denoiser';
import { type CachePolicy, cachedDenoiser } from '../caches/cached-denoiser';
import { staticSchedule } from '../caches/static-schedule';
import { sample } from '../sample';
import type { SampleLike, Scheduler } from '../types';
import { f64, parseOptions } from '../util';
import { GeneticOptions, type GeneticProblem, geneticSearch } from './genetic';
import { parsePreset } from './preset';

const NAME = 'ecadSearch';

const Bit = z.union([z.literal(0), z.literal(1)]);
const Table = z.array(z.array(Bit).min(1)).min(1);

export const EcadOptions = z.strictObject({
  model: z.custom<BlockDenoiser<unknown>>(
    (v) => typeof v === 'object' && v !== null && 'begin' in v && 'numBlocks' in v,
    { message: 'expected a BlockDenoiser' },
  ),
  /** Names written into the preset. */
  modelName: z.string().min(1).default('model'),
  sampler: z.string().min(1),
  /** A fresh scheduler of the sampler (e.g. () => new FlowMatchEulerDiscreteScheduler()). */
  scheduler: z.custom<() => Scheduler>((v) => typeof v === 'function', { message: 'expected a function' }),
  steps: z.number().int().positive(),
  /** Budget: the fraction of block evaluations of the uncached run (first and last call included). */
  computeFraction: z.number().gt(0).max(1),
  mode: z.enum(['budget', 'pareto']).default('budget'),
  /** Calibration inputs: standard-normal noise (items · sampleSize values) and conditioning per item. */
  calibration: z.strictObject({
    noise: z.custom<SampleLike>(
      (v) => v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v),
      { message: 'expected a Float64Array, Float32Array or number array' },
    ),
    cond: z.array(z.unknown()).min(1),
    guidanceScale: z.number().default(1),
  }),
  /** Value range of a sample for the PSNR in the preset (2 for images in [−1, 1]). */
  dataRange: z.number().positive().default(2),
  /** Schedules placed in generation 0 (budget mode: repaired to the budget's count). */
  seedSchedules: z.array(Table).optional(),
  search: GeneticOptions.optional(),
});
export type EcadOptions = z.input<typeof EcadOptions>;

export const CacheSchedulePreset = z
  .strictObject({
    kind: z.literal('hasten.cache-schedule/1'),
    method: z.literal('ecad'),
    model: z.string().min(1),
    sampler: z.string().min(1),
    steps: z.number().int().positive(),
    guidanceScale: z.number(),
    numBlocks: z.number().int().positive(),
    /** One row per denoiser call, one 0/1 per block (staticSchedule's table). */
    schedule: Table,
    /** Computed block evaluations / (calls · blocks). */
    computeFraction: z.number().min(0).max(1),
    /** Measured on the calibration set against the uncached sampler (null: identical, PSNR = ∞). */
    calibration: z.strictObject({
      items: z.number().int().positive(),
      psnrDb: z.number().nullable(),
    }),
    search: z.strictObject({
      mode: z.enum(['budget', 'pareto']),
      evaluations: z.number().int().nonnegative(),
      generations: z.number().int().nonnegative(),
      populationSize: z.number().int().positive(),
      seed: z.number().int().nonnegative(),
    }),
  })
  .superRefine((p, ctx) => {
    p.schedule.forEach((row, k) => {
      if (row.length !== p.numBlocks)
        ctx.addIssue({
          code: 'custom',
          path: ['schedule', k],
          message: `row ${k} has ${row.length} entries, numBlocks is ${p.numBlocks}`,
        });
    });
    const f = scheduleComputeFraction(p.schedule);
    if (Math.abs(f - p.computeFraction) > 1e-9)
      ctx.addIssue({
        code: 'custom',
        path: ['computeFraction'],
        message: `is ${p.computeFraction} but the schedule computes ${f}`,
      });
  });
export type CacheSchedulePreset = z.output<typeof CacheSchedulePreset>;

export interface EcadResult {
  /** The best schedule within the budget, as a JSON preset. */
  preset: CacheSchedulePreset;
  /** Pareto mode: the non-dominated schedules by compute; budget mode: the preset alone. */
  front: CacheSchedulePreset[];
  /** Best calibration MSE after each generation, and the evaluations spent. */
  history: { generation: number; evaluations: number; mse: number }[];
}

/** Fraction of 1 entries in a 0/1 table. */
export function scheduleComputeFraction(schedule: readonly (readonly number[])[]): number {
  let ones = 0;
  let all = 0;
  for (const row of schedule) {
    for (const v of row) ones += v;
    all += row.length;
  }
  return all === 0 ? 0 : ones / all;
}

/**
 * A FORA-like hand-set table: every block computed at calls 0, interval, 2·interval, … and at the
 * last call (the guard), reused at the others; `offset` shifts the computed calls.
 */
export function foraSchedule(calls: number, numBlocks: number, interval: number, offset = 0): (0 | 1)[][] {
  if (!(Number.isInteger(calls) && calls > 0 && Number.isInteger(interval) && interval > 0))
    throw new Error(`foraSchedule: calls and interval must be positive integers, got ${calls}, ${interval}`);
  return Array.from({ length: calls }, (_, k) => {
    const full = k === 0 || k === calls - 1 || (k - offset) % interval === 0;
    return new Array<0 | 1>(numBlocks).fill(full ? 1 : 0);
  });
}

/** Reads and validates a cache-schedule preset (object or JSON text). */
export function loadCachePreset(json: unknown): CacheSchedulePreset {
  return parsePreset('cache schedule preset', CacheSchedulePreset, json);
}

/**
 * A `staticSchedule` policy from a preset, after checking it against what the caller runs (model
 * name, sampler, steps, when given).
 */
export function cachePresetPolicy(
  json: unknown,
  expect: { model?: string; sampler?: string; steps?: number } = {},
): CachePolicy<unknown> {
  const p = loadCachePreset(json);
  for (const k of ['model', 'sampler', 'steps'] as const)
    if (expect[k] !== undefined && expect[k] !== p[k])
      throw new Error(`cache schedule preset: field '${k}' is ${p[k]}, the caller runs ${expect[k]}`);
  return staticSchedule({ schedule: p.schedule }) as CachePolicy<unknown>;
}

/** Searches a static cache schedule (see the file comment). */
export async function ecadSearch(options: EcadOptions): Promise<EcadResult> {
  const o = parseOptions(NAME, EcadOptions, options);
  const { model } = o;
  if (model.architecture !== 'dit')
    throw new Error(`${NAME}: searches DiT-style block stacks; got a ${model.architecture}`);
  const L = model.numBlocks;
  const probe = o.scheduler();
  probe.setTimesteps({ steps: o.steps });
  const calls = probe.timesteps.length;
  if (calls < 3)
    throw new Error(
      `${NAME}: ${calls} denoiser calls leave nothing to search (the first and last always compute)`,
    );
  const batch = o.calibration.cond.length;
  const noise = f64(o.calibration.noise);
  if (noise.length !== batch * model.sampleSize)
    throw new Error(
      `${NAME}: option 'calibration.noise' has ${noise.length} values, expected ${batch} items · ${model.sampleSize}`,
    );
  const sampleOptions = {
    steps: o.steps,
    batch,
    dim: model.sampleSize,
    noise,
    cond: o.calibration.cond,
    guidanceScale: o.calibration.guidanceScale,
  };
  const reference = sample(o.scheduler(), fullForward(model), sampleOptions).sample;

  const free = (calls - 2) * L;
  const fixed = 2 * L;
  const total = calls * L;
  const K = Math.round(o.computeFraction * total) - fixed;
  if (o.mode === 'budget' && K < 0)
    throw new Error(
      `${NAME}: option 'computeFraction' ${o.computeFraction} is below the ${fixed}/${total} block evaluations of the always-computed first and last calls`,
    );
  const ones = Math.min(K, free);

  const toTable = (g: Uint8Array): (0 | 1)[][] =>
    Array.from({ length: calls }, (_, k) =>
      k === 0 || k === calls - 1
        ? new Array<0 | 1>(L).fill(1)
        : Array.from(g.subarray((k - 1) * L, k * L), (v) => v as 0 | 1),
    );
  const fromTable = (t: readonly (readonly number[])[]): Uint8Array => {
    if (t.length !== calls || t.some((row) => row.length !== L))
      throw new Error(`${NAME}: option 'seedSchedules' needs tables of ${calls} rows of ${L} entries`);
    return Uint8Array.from(t.slice(1, calls - 1).flat());
  };
  const mseOf = (g: Uint8Array): number => {
    const cached = cachedDenoiser(model, staticSchedule({ schedule: toTable(g) }));
    const x = sample(o.scheduler(), cached, { ...sampleOptions, cache: cached }).sample;
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (x[i] - reference[i]) ** 2;
    return s / x.length;
  };
  const fractionOf = (g: Uint8Array) => {
    let n = fixed;
    for (const v of g) n += v;
    return n / total;
  };
  const pickIndex = (n: number, r: Philox) => Math.min(n - 1, Math.floor(r.uniform(1)[0] * n));
  const positions = (g: Uint8Array, bit: number) => {
    const out: number[] = [];
    g.forEach((v, i) => {
      if (v === bit) out.push(i);
    });
    return out;
  };
  /** Budget mode: set random entries until the genome has exactly `ones` ones. */
  const repair = (g: Uint8Array, r: Philox): Uint8Array => {
    let n = g.reduce((a, v) => a + v, 0);
    while (n > ones) {
      const p = positions(g, 1);
      g[p[pickIndex(p.length, r)]] = 0;
      n--;
    }
    while (n < ones) {
      const p = positions(g, 0);
      g[p[pickIndex(p.length, r)]] = 1;
      n++;
    }
    return g;
  };
  const seedRng = rng((o.search?.seed ?? 0) + 7919);
  const seeds = (o.seedSchedules ?? [foraLike(calls, L, o.computeFraction)]).map((t) => {
    const g = fromTable(t);
    return o.mode === 'budget' ? repair(g, seedRng) : g;
  });

  const problem: GeneticProblem<Uint8Array> = {
    initial: seeds,
    key: (g) => g.join(''),
    random(r) {
      const g = new Uint8Array(free);
      if (o.mode === 'budget') {
        // Three in four: whole rows at random calls (all blocks of a call computed or reused
        // together, which scored better than scattered reuse on the toy and glyph DiTs), the
        // remainder on one more row; else scattered entries.
        if (r.uniform(1)[0] < 0.75) {
          const rows = Array.from({ length: calls - 2 }, (_, k) => k);
          for (let k = rows.length - 1; k > 0; k--) {
            const j = pickIndex(k + 1, r);
            [rows[k], rows[j]] = [rows[j], rows[k]];
          }
          const full = Math.floor(ones / L);
          for (let k = 0; k < full; k++) g.fill(1, rows[k] * L, (rows[k] + 1) * L);
          const rest = ones - full * L;
          if (rest > 0) g.fill(1, rows[full] * L, rows[full] * L + rest);
          return g;
        }
        return repair(g, r);
      }
      const p = 0.2 + 0.8 * r.uniform(1)[0];
      const u = r.uniform(free);
      for (let i = 0; i < free; i++) g[i] = u[i] < p ? 1 : 0;
      return g;
    },
    crossover(a, b, r) {
      // Row-wise uniform crossover (a call's decisions travel together), then the budget's count.
      const g = new Uint8Array(free);
      const u = r.uniform(calls - 2);
      for (let k = 0; k < calls - 2; k++) g.set((u[k] < 0.5 ? a : b).subarray(k * L, (k + 1) * L), k * L);
      return o.mode === 'budget' ? repair(g, r) : g;
    },
    mutate(a, r) {
      const g = a.slice();
      if (o.mode === 'pareto') {
        const u = r.uniform(free);
        let flipped = false;
        for (let i = 0; i < free; i++)
          if (u[i] < 1 / free) {
            g[i] ^= 1;
            flipped = true;
          }
        if (!flipped) g[pickIndex(free, r)] ^= 1;
        return g;
      }
      const rowSum = (k: number) => g.subarray(k * L, (k + 1) * L).reduce((s, v) => s + v, 0);
      const donors = Array.from({ length: calls - 2 }, (_, k) => k).filter((k) => rowSum(k) > 0);
      const takers = Array.from({ length: calls - 2 }, (_, k) => k).filter((k) => rowSum(k) < L);
      if (r.uniform(1)[0] < 0.5 && donors.length > 0 && takers.length > 0) {
        // Exchange a row that computes with one that reuses (moves a step's computation, count unchanged).
        const i = donors[pickIndex(donors.length, r)];
        const j = takers[pickIndex(takers.length, r)];
        if (i !== j) {
          const row = g.slice(i * L, (i + 1) * L);
          g.copyWithin(i * L, j * L, (j + 1) * L);
          g.set(row, j * L);
          return g;
        }
      }
      // Move 1, 2, 3, … computed entries (geometric, p = 1/2) to reused positions.
      const on = positions(g, 1);
      const off = positions(g, 0);
      let moves = 1;
      while (moves < 8 && r.uniform(1)[0] < 0.5) moves++;
      for (let m = 0; m < moves && on.length > 0 && off.length > 0; m++) {
        const i = on.splice(pickIndex(on.length, r), 1)[0];
        const j = off.splice(pickIndex(off.length, r), 1)[0];
        g[i] = 0;
        g[j] = 1;
      }
      return g;
    },
    evaluate: (g) => (o.mode === 'budget' ? mseOf(g) : [mseOf(g), fractionOf(g)]),
  };
  const searchOptions = {
    ...(o.search ?? {}),
    ...(o.mode === 'pareto' ? { selection: 'nsga2' as const } : {}),
  };
  const result = await geneticSearch(problem, searchOptions);
  const popSize = o.search?.populationSize ?? 16;
  const toPreset = (g: Uint8Array, mse: number): CacheSchedulePreset => ({
    kind: 'hasten.cache-schedule/1',
    method: 'ecad',
    model: o.modelName,
    sampler: o.sampler,
    steps: o.steps,
    guidanceScale: o.calibration.guidanceScale,
    numBlocks: L,
    schedule: toTable(g),
    computeFraction: fractionOf(g),
    calibration: {
      items: batch,
      psnrDb: mse === 0 ? null : 10 * Math.log10((o.dataRange * o.dataRange) / mse),
    },
    search: {
      mode: o.mode,
      evaluations: result.evaluations,
      generations: result.generations,
      populationSize: popSize,
      seed: o.search?.seed ?? 0,
    },
  });
  const history = result.history.map((h) => ({
    generation: h.generation,
    evaluations: h.evaluations,
    mse: h.best[0],
  }));
  if (o.mode === 'budget') {
    const preset = toPreset(result.best.genome, result.best.objectives[0]);
    return { preset, front: [preset], history };
  }
  const front = [...result.front]
    .sort((a, b) => a.objectives[1] - b.objectives[1])
    .map((p) => toPreset(p.genome, p.objectives[0]));
  const within = result.front.filter((p) => p.objectives[1] <= o.computeFraction + 1e-12);
  const chosen =
    within.length > 0
      ? within.reduce((a, b) => (b.objectives[0] < a.objectives[0] ? b : a))
      : result.front.reduce((a, b) => (b.objectives[1] < a.objectives[1] ? b : a));
  return { preset: toPreset(chosen.genome, chosen.objectives[0]), front, history };
}

/** The seed of generation 0: whole rows computed at evenly spaced calls, as many as the budget allows. */
function foraLike(calls: number, L: number, fraction: number): (0 | 1)[][] {
  const fullRows = Math.max(2, Math.min(calls, Math.round(fraction * calls)));
  const table = Array.from({ length: calls }, () => new Array<0 | 1>(L).fill(0));
  for (let j = 0; j < fullRows; j++) table[Math.round((j * (calls - 1)) / (fullRows - 1))].fill(1);
  return table;
}
