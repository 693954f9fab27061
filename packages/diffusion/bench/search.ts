/**
 * Schedule searches on the trained glyph DiT (fixtures/glyph-dit, flow matching, FlowMatch Euler):
 *
 * - ECAD (src/search/ecad.ts): a static cache schedule searched on a small calibration set at the
 *   block evaluations of FORA at interval 2, against the best of the hand-set tables with the same
 *   block evaluations (FORA-like phases, evenly spread, dense early / late), chosen on HELD-OUT
 *   noise. Quality: PSNR of each against the uncached sample of the same noise and class (held-out).
 * - Timestep search (src/search/timestep-search.ts): the σ schedule at 6 NFE searched against the
 *   100-step sample on the calibration set, against the default spacing at the same NFE. Quality:
 *   RMS distance to the 100-step sample on held-out noise.
 *
 * Both run once before the timed cases (their duration goes into the description); the cases time
 * the searched schedule against its baseline at equal compute (a ratio near 1 is expected) with the
 * held-out quality beside it. The found presets are written to packages/diffusion/presets/.
 *
 *   npm run bench:search -w @hasten/diffusion [-- --quick]     (--quick: tiny budgets, writes nothing)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { rng } from '@hasten/core-tensor';
import { defineBenchmark, defineCase, psnr } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import {
  cachedDenoiser,
  cachePresetPolicy,
  ecadSearch,
  FlowMatchEulerDiscreteScheduler,
  foraSchedule,
  fullForward,
  type Generation,
  sample,
  staticSchedule,
  timestepPresetOptions,
  timestepSearch,
} from '../src/index';
import { loadDiT } from '../src/node';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = args.quick;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const presetDir = join(here, '..', 'presets');

const progress = (what: string) => (g: Generation<unknown>) =>
  console.error(
    `${what}: generation ${g.index}, ${g.evaluations} evaluations, best ${g.best.objectives[0].toExponential(3)}`,
  );

const model = await loadDiT(join(root, 'fixtures', 'glyph-dit'));
const MODEL = 'glyph-dit';
const SAMPLER = 'flowmatch-euler';
const D = model.sampleSize;
const L = model.numBlocks;
const scheduler = () => new FlowMatchEulerDiscreteScheduler();

// Calibration and held-out sets: different noise seeds and different classes.
const calibration = {
  noise: rng(7).normal(16 * D),
  cond: [1, 3, 8, 12, 17, 21, 26, 33, 2, 7, 11, 16, 22, 27, 31, 34],
};
const heldOut = { noise: rng(100).normal(8 * D), cond: [0, 5, 10, 15, 20, 25, 30, 35] };

// ---- ECAD ------------------------------------------------------------------------------------------
const STEPS = 10;
const ROWS = 6; // FORA at interval 2 computes calls 0, 2, 4, 6, 8 and the last one: 6 of 10.
const fullRows = (ks: number[]): (0 | 1)[][] =>
  Array.from({ length: STEPS }, (_, k) => new Array<0 | 1>(L).fill(ks.includes(k) ? 1 : 0));
const handSet: Record<string, (0 | 1)[][]> = {
  'FORA 2': foraSchedule(STEPS, L, 2),
  'FORA 2 (phase 1)': foraSchedule(STEPS, L, 2, 1),
  'evenly spread rows': fullRows(
    Array.from({ length: ROWS }, (_, j) => Math.round((j * (STEPS - 1)) / (ROWS - 1))),
  ),
  'dense early': fullRows([...Array.from({ length: ROWS - 1 }, (_, j) => j), STEPS - 1]),
  'dense late': fullRows([0, ...Array.from({ length: ROWS - 1 }, (_, j) => STEPS - 1 - j)]),
};
const ecadStart = performance.now();
const ecad = await ecadSearch({
  model,
  modelName: MODEL,
  sampler: SAMPLER,
  scheduler,
  steps: STEPS,
  computeFraction: ROWS / STEPS,
  calibration,
  dataRange: 2,
  // Generation 0 holds the hand-set tables (ECAD-style initialisation from known heuristics).
  seedSchedules: Object.values(handSet),
  search: { populationSize: quick ? 6 : 10, budget: quick ? 8 : 96, seed: 0, onGeneration: progress('ECAD') },
});
const ecadSeconds = (performance.now() - ecadStart) / 1000;

const runOptions = (steps: number) => ({ steps, batch: heldOut.cond.length, dim: D, ...heldOut });
const uncached = sample(scheduler(), fullForward(model), runOptions(STEPS)).sample;
const runTable = (table: (0 | 1)[][]) => {
  const cached = cachedDenoiser(model, staticSchedule({ schedule: table }));
  const x = sample(scheduler(), cached, { ...runOptions(STEPS), cache: cached }).sample;
  return { x, evals: cached.stats().blockEvaluations };
};
const handScores = Object.entries(handSet).map(([name, table]) => {
  const r = runTable(table);
  return { name, table, db: psnr(r.x, uncached, { dataRange: 2 }), evals: r.evals };
});
const bestHand = handScores.reduce((a, b) => (b.db > a.db ? b : a));
const ecadPolicy = () => cachePresetPolicy(ecad.preset, { model: MODEL, sampler: SAMPLER, steps: STEPS });

// ---- timestep search -------------------------------------------------------------------------------
const NFE = 6;
const tsStart = performance.now();
const ts = await timestepSearch({
  denoiser: fullForward(model),
  modelName: MODEL,
  sampler: SAMPLER,
  scheduler,
  nfe: NFE,
  space: 'flow',
  // Half the calibration items: each evaluation and the 100-step reference cost NFE per item.
  calibration: { noise: calibration.noise.subarray(0, 4 * D), dim: D, cond: calibration.cond.slice(0, 4) },
  reference: { steps: quick ? 20 : 100 },
  search: {
    populationSize: quick ? 4 : 10,
    budget: quick ? 6 : 40,
    seed: 0,
    onGeneration: progress('timesteps'),
  },
});
const tsSeconds = (performance.now() - tsStart) / 1000;
const refSteps = quick ? 20 : 100;
const reference = sample(scheduler(), fullForward(model), runOptions(refSteps)).sample;
const rms = (x: Float64Array) => Math.sqrt(x.reduce((a, v, i) => a + (v - reference[i]) ** 2, 0) / x.length);

if (!quick) {
  mkdirSync(presetDir, { recursive: true });
  writeFileSync(
    join(presetDir, `${MODEL}.ecad.${SAMPLER}-${STEPS}.json`),
    `${JSON.stringify(ecad.preset, null, 2)}\n`,
  );
  writeFileSync(
    join(presetDir, `${MODEL}.timesteps.${SAMPLER}-${NFE}.json`),
    `${JSON.stringify(ts.preset, null, 2)}\n`,
  );
}

const definition = defineBenchmark({
  package: 'diffusion',
  name: 'search',
  description:
    `Schedule searches on the glyph DiT (FlowMatch Euler, no guidance; calibration ${calibration.cond.length} items, held-out ${heldOut.cond.length} items of other noise and classes). ` +
    `ECAD: ${ecad.preset.search.evaluations} evaluations in ${ecadSeconds.toFixed(0)} s, calibration PSNR ${ecad.preset.calibration.psnrDb?.toFixed(2)} dB; held-out PSNR of the hand-set tables at ${ROWS}/${STEPS} of the block evaluations: ${handScores.map((h) => `${h.name} ${h.db.toFixed(2)} dB`).join(', ')}. ` +
    `Timestep search: ${ts.preset.search.evaluations} evaluations in ${tsSeconds.toFixed(0)} s, calibration RMS ${ts.preset.calibration.rms.toExponential(2)} (default spacing ${ts.preset.calibration.defaultRms.toExponential(2)}); sigmas ${ts.preset.sigmas.map((s) => s.toFixed(3)).join(', ')}.`,
  warmup: 1,
  repeats: quick ? 1 : 3,
  cases: [
    defineCase<{ x: Float64Array; evals: number }>({
      name: `ECAD searched schedule vs best hand-set (${bestHand.name}), ${SAMPLER} ${STEPS} steps, glyph DiT`,
      baselineLabel: `${bestHand.name}, ${STEPS} steps`,
      methodLabel: `ECAD preset, ${STEPS} steps`,
      baseline: () => runTable(bestHand.table),
      method: () => {
        const cached = cachedDenoiser(model, ecadPolicy());
        const x = sample(scheduler(), cached, { ...runOptions(STEPS), cache: cached }).sample;
        return { x, evals: cached.stats().blockEvaluations };
      },
      quality: (b, m) => {
        const mdb = psnr(m.x, uncached, { dataRange: 2 });
        const bdb = psnr(b.x, uncached, { dataRange: 2 });
        return {
          metric: `held-out PSNR vs uncached (dB); best hand-set ${bdb.toFixed(2)} dB; block evaluations ${m.evals} and ${b.evals} of ${STEPS * L} uncached`,
          value: mdb,
          pass: mdb > bdb && m.evals === b.evals,
          threshold: `> ${bdb.toFixed(2)} dB at equal block evaluations`,
        };
      },
    }),
    defineCase<Float64Array>({
      name: `searched timesteps vs default spacing, ${SAMPLER} ${NFE} NFE, glyph DiT`,
      baselineLabel: `default spacing, ${NFE} steps`,
      methodLabel: `searched sigmas, ${NFE} steps`,
      baseline: () => sample(scheduler(), fullForward(model), runOptions(NFE)).sample,
      method: () =>
        sample(scheduler(), fullForward(model), {
          ...runOptions(NFE),
          steps: undefined,
          ...timestepPresetOptions(ts.preset, { model: MODEL, sampler: SAMPLER }),
        }).sample,
      quality: (b, m) => {
        const mr = rms(m);
        const br = rms(b);
        return {
          metric: `held-out RMS to the ${refSteps}-step sample; default spacing ${br.toExponential(2)}`,
          value: mr,
          pass: mr < br,
          threshold: `< ${br.toExponential(2)} at ${NFE} NFE`,
        };
      },
    }),
  ],
});
await runAndWrite(definition, quick ? { write: false } : {});
