import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { cachedDenoiser } from '../caches/cached-denoiser';
import { staticSchedule } from '../caches/static-schedule';
import { sample } from '../sample';
import { FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-match-euler-discrete';
import { ToyBlockDenoiser } from '../testing/toy-block-denoiser';
import {
  cachePresetPolicy,
  ecadSearch,
  foraSchedule,
  loadCachePreset,
  scheduleComputeFraction,
} from './ecad';
import { dominates } from './genetic';

type Table = (0 | 1)[][];

const model = new ToyBlockDenoiser({ architecture: 'dit', predictionType: 'flow_prediction', seed: 3 });
const L = model.numBlocks;
const D = model.sampleSize;

/** PSNR (range 4) of a static schedule's sample against the uncached one on the given items. */
function heldOutPsnr(steps: number, shift: number, table: Table, noise: Float64Array, cond: number[]) {
  const options = { steps, batch: cond.length, dim: D, noise, cond };
  const ref = sample(new FlowMatchEulerDiscreteScheduler({ shift }), fullForward(model), options).sample;
  const cached = cachedDenoiser(model, staticSchedule({ schedule: table }));
  const x = sample(new FlowMatchEulerDiscreteScheduler({ shift }), cached, {
    ...options,
    cache: cached,
  }).sample;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - ref[i]) ** 2;
  return { db: 10 * Math.log10(16 / (s / x.length)), evals: cached.stats().blockEvaluations };
}

/** Hand-set tables that compute whole rows at `rows` calls (FORA-like phases, evenly spread, dense early / late). */
function handSet(steps: number, rows: number): Record<string, Table> {
  const fullRows = (ks: number[]): Table =>
    Array.from({ length: steps }, (_, k) => new Array<0 | 1>(L).fill(ks.includes(k) ? 1 : 0));
  const out: Record<string, Table> = {};
  for (let interval = 2; interval <= 4; interval++)
    for (let offset = 0; offset < interval; offset++) {
      const t = foraSchedule(steps, L, interval, offset);
      if (t.filter((r) => r[0] === 1).length === rows) out[`fora ${interval}+${offset}`] = t;
    }
  out.even = fullRows(Array.from({ length: rows }, (_, j) => Math.round((j * (steps - 1)) / (rows - 1))));
  out.early = fullRows([...Array.from({ length: rows - 1 }, (_, j) => j), steps - 1]);
  out.late = fullRows([0, ...Array.from({ length: rows - 1 }, (_, j) => steps - 1 - j)]);
  return out;
}

describe('ecadSearch', () => {
  it('on the toy DiT (FlowMatch Euler, shift 3, 16 steps) finds a schedule that beats every hand-set one at equal block evaluations on held-out noise', async () => {
    const steps = 16;
    const shift = 3;
    const rows = 6;
    const calibration = { noise: rng(7).normal(24 * D), cond: Array.from({ length: 24 }, (_, i) => i % 4) };
    const { preset, history } = await ecadSearch({
      model,
      modelName: 'toy-dit-3',
      sampler: 'flowmatch-euler-shift3',
      scheduler: () => new FlowMatchEulerDiscreteScheduler({ shift }),
      steps,
      computeFraction: rows / steps,
      calibration,
      dataRange: 4,
      search: { populationSize: 16, budget: 240, seed: 0 },
    });
    expect(preset.computeFraction).toBeCloseTo(rows / steps, 12);
    expect(preset.schedule[0]).toEqual(new Array(L).fill(1));
    expect(preset.schedule[steps - 1]).toEqual(new Array(L).fill(1));
    expect(preset.search.evaluations).toBeLessThanOrEqual(240);
    for (let i = 1; i < history.length; i++) expect(history[i].mse).toBeLessThanOrEqual(history[i - 1].mse);

    const held = { noise: rng(100).normal(16 * D), cond: Array.from({ length: 16 }, (_, i) => i % 4) };
    const searched = heldOutPsnr(steps, shift, preset.schedule, held.noise, held.cond);
    const hand = Object.entries(handSet(steps, rows)).map(([name, t]) => ({
      name,
      ...heldOutPsnr(steps, shift, t, held.noise, held.cond),
    }));
    expect(hand.length).toBeGreaterThanOrEqual(5);
    // Equal compute: the same block evaluations as every hand-set table.
    for (const h of hand) expect(h.evals).toBe(searched.evals);
    const best = Math.max(...hand.map((h) => h.db));
    // Measured at these seeds: searched 38.3 dB, best hand-set 35.4 dB; require a 1 dB margin.
    expect(searched.db).toBeGreaterThan(best + 1);
  }, 120_000);

  it('presets round-trip through JSON into a staticSchedule that reproduces the searched run', async () => {
    const steps = 8;
    const calibration = { noise: rng(9).normal(4 * D), cond: [0, 1, 2, 3], guidanceScale: 2 };
    const { preset } = await ecadSearch({
      model,
      modelName: 'toy-dit-3',
      sampler: 'flowmatch-euler',
      scheduler: () => new FlowMatchEulerDiscreteScheduler(),
      steps,
      computeFraction: 0.5,
      calibration,
      search: { populationSize: 6, budget: 24, seed: 2 },
    });
    const text = JSON.stringify(preset);
    expect(loadCachePreset(text)).toEqual(preset);
    const policy = cachePresetPolicy(JSON.parse(text), {
      model: 'toy-dit-3',
      sampler: 'flowmatch-euler',
      steps,
    });
    const options = { steps, batch: 4, dim: D, ...calibration };
    const ref = sample(new FlowMatchEulerDiscreteScheduler(), fullForward(model), options).sample;
    const cached = cachedDenoiser(model, policy);
    const x = sample(new FlowMatchEulerDiscreteScheduler(), cached, { ...options, cache: cached }).sample;
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (x[i] - ref[i]) ** 2;
    // The preset's PSNR is the one measured on this calibration set (data range 2, the default).
    expect(10 * Math.log10(4 / (s / x.length))).toBeCloseTo(preset.calibration.psnrDb as number, 9);
    expect(cached.stats().blockEvaluations).toBe(2 * steps * L * 0.5);
    expect(() => cachePresetPolicy(preset, { steps: 10 })).toThrow(/field 'steps' is 8, the caller runs 10/);
  });

  it('bad presets give errors naming the field', () => {
    const schedule: Table = [
      [1, 1],
      [0, 1],
      [1, 1],
    ];
    const good = {
      kind: 'hasten.cache-schedule/1',
      method: 'ecad',
      model: 'm',
      sampler: 's',
      steps: 3,
      guidanceScale: 1,
      numBlocks: 2,
      schedule,
      computeFraction: scheduleComputeFraction(schedule),
      calibration: { items: 4, psnrDb: 31.5 },
      search: { mode: 'budget', evaluations: 10, generations: 2, populationSize: 4, seed: 0 },
    };
    expect(loadCachePreset(good)).toEqual(good);
    expect(() =>
      loadCachePreset({
        ...good,
        schedule: [
          [1, 1],
          [0, 2],
          [1, 1],
        ],
      }),
    ).toThrow(/cache schedule preset: field 'schedule.1.1' is invalid/);
    expect(() => loadCachePreset({ ...good, schedule: [[1, 1], [0], [1, 1]] })).toThrow(
      /field 'schedule.1' is invalid: row 1 has 1 entries, numBlocks is 2/,
    );
    expect(() => loadCachePreset({ ...good, computeFraction: 0.5 })).toThrow(
      /field 'computeFraction' is invalid: is 0.5 but the schedule computes 0.833/,
    );
    expect(() => loadCachePreset({ ...good, kind: 'cache' })).toThrow(/field 'kind' is invalid/);
    const { steps: _, ...noSteps } = good;
    expect(() => loadCachePreset(noSteps)).toThrow(/field 'steps' is invalid/);
    expect(() => loadCachePreset({ ...good, stepz: 3 })).toThrow(/Unrecognized key: "stepz"/);
  });

  it('Pareto mode (NSGA-II on MSE and compute) returns a non-dominated front and a preset within the budget', async () => {
    const { preset, front } = await ecadSearch({
      model,
      sampler: 'flowmatch-euler',
      scheduler: () => new FlowMatchEulerDiscreteScheduler(),
      steps: 8,
      computeFraction: 0.6,
      mode: 'pareto',
      calibration: { noise: rng(5).normal(4 * D), cond: [0, 1, 2, 3] },
      search: { populationSize: 12, budget: 80, seed: 1 },
    });
    expect(front.length).toBeGreaterThan(1);
    const pts = front.map((p) => [-(p.calibration.psnrDb ?? Infinity), p.computeFraction]);
    for (const a of pts) for (const b of pts) expect(dominates(a, b)).toBe(false);
    for (let i = 1; i < front.length; i++)
      expect(front[i].computeFraction).toBeGreaterThan(front[i - 1].computeFraction);
    expect(preset.computeFraction).toBeLessThanOrEqual(0.6);
    expect(front).toContainEqual(preset);
  });

  it('rejects what it cannot search with clear errors', async () => {
    const base = {
      model,
      sampler: 'flowmatch-euler',
      scheduler: () => new FlowMatchEulerDiscreteScheduler(),
      steps: 8,
      calibration: { noise: rng(5).normal(2 * D), cond: [0, 1] },
    };
    await expect(ecadSearch({ ...base, computeFraction: 0.1 })).rejects.toThrow(
      /option 'computeFraction' 0.1 is below the 12\/48 block evaluations of the always-computed first and last calls/,
    );
    await expect(ecadSearch({ ...base, computeFraction: 1.5 })).rejects.toThrow(
      /ecadSearch: option 'computeFraction' is invalid/,
    );
    const unet = new ToyBlockDenoiser({ architecture: 'unet', predictionType: 'flow_prediction' });
    await expect(
      ecadSearch({
        ...base,
        model: unet,
        computeFraction: 0.5,
        calibration: { noise: rng(5).normal(2 * unet.sampleSize), cond: [0, 1] },
      }),
    ).rejects.toThrow(/searches DiT-style block stacks; got a unet/);
  });
});
