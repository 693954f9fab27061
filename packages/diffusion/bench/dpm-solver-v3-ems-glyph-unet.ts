/**
 * @file Computes the DPM-Solver-v3 EMS preset of the glyph UNet fixture (fixtures/glyph-unet, ε
 * prediction, linear betas) on a small calibration set, and measures it on held-out noise and
 * classes against DPM-Solver++ at the same steps. Not a timed bench case: it writes
 * `packages/diffusion/presets/glyph-unet.dpm-solver-v3-ems.json` and prints the table.
 *
 *   npx tsx packages/diffusion/bench/dpm-solver-v3-ems-glyph-unet.ts [--grid 60] [--items 16]
 *
 * Calibration: class-conditional trajectories (no guidance; labels spread over the 36 classes),
 * statistics pooled over the 1024 pixels (`perDimension: false`: per-pixel statistics from a few
 * items would be mostly noise, and the preset stays small). Evaluation: RMS distance to a
 * 100-step DPM-Solver++ 3M (Taylor third order) sample from the same noise and class, all samplers
 * ending at σ_min (the last training step).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '@hasten/core-tensor';
import {
  computeDpmSolverV3Ems,
  DPMSolverMultistepScheduler,
  DPMSolverV3Scheduler,
  degeneratedDpmSolverV3Ems,
  dpmSolverV3EmsToJson,
  fullForward,
  type Scheduler,
  sample,
} from '../src/index';
import { loadUNet } from '../src/node';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, '..', '..', '..');
  const unet = await loadUNet(join(root, 'fixtures', 'glyph-unet'));
  const den = fullForward(unet);
  const dim = unet.sampleSize;
  const grid = arg('grid', 60);
  const items = arg('items', 16);
  const calCond = Array.from({ length: items }, (_, i) => (i * 7) % 36);
  const t0 = performance.now();
  const ems = computeDpmSolverV3Ems(den, {
    batch: items,
    dim,
    generator: rng(2024),
    cond: calCond,
    gridSize: grid,
    perDimension: false,
    model: 'glyph-unet',
    onProgress: (p) => {
      if (p.done % 10 === 0 || p.done === p.total)
        console.log(`EMS ${p.done}/${p.total} grid points, ${p.modelCalls} model calls`);
    },
  });
  const emsSeconds = (performance.now() - t0) / 1000;

  const heldOut = 16;
  const noise = rng(77).normal(heldOut * dim);
  const cond = Array.from({ length: heldOut }, (_, i) => (i * 5 + 3) % 36);
  const run = (s: Scheduler, steps: number) =>
    sample(s, den, { steps, batch: heldOut, dim, noise, cond }).sample;
  const reference = run(
    new DPMSolverMultistepScheduler({ solverOrder: 3, taylorThirdOrder: true, finalSigmasType: 'sigma_min' }),
    100,
  );
  const rms = (x: Float64Array) =>
    Math.sqrt(x.reduce((a, v, i) => a + (v - reference[i]) ** 2, 0) / x.length);
  const deg = degeneratedDpmSolverV3Ems(ems.lambdas[0], ems.lambdas[ems.lambdas.length - 1]);
  const samplers: [string, () => Scheduler][] = [
    ['dpmpp-2m', () => new DPMSolverMultistepScheduler({ finalSigmasType: 'sigma_min' })],
    ['dpmpp-3m', () => new DPMSolverMultistepScheduler({ solverOrder: 3, finalSigmasType: 'sigma_min' })],
    ['dpm-solver-v3 (l=1, s=b=0)', () => new DPMSolverV3Scheduler({ ems: deg })],
    ['dpm-solver-v3 (EMS)', () => new DPMSolverV3Scheduler({ ems })],
  ];
  const evaluation: Record<string, Record<string, number>> = {};
  for (const [name, make] of samplers) {
    evaluation[name] = {};
    for (const steps of [5, 8, 10]) evaluation[name][steps] = rms(run(make(), steps));
    console.log(
      name.padEnd(28),
      Object.entries(evaluation[name])
        .map(([k, v]) => `${k}: ${v.toFixed(4)}`)
        .join('  '),
    );
  }
  const preset = {
    ...ems,
    calibration: {
      ...ems.calibration,
      cond: 'class labels (7·i) mod 36, no guidance',
      noiseSeed: 2024,
      seconds: Math.round(emsSeconds),
      evaluation: {
        what: 'RMS to 100-step DPM-Solver++ 3M (Taylor), 16 held-out items (noise seed 77, classes (5i+3) mod 36), final σ_min',
        rms: evaluation,
      },
    },
  };
  const out = join(here, '..', 'presets', 'glyph-unet.dpm-solver-v3-ems.json');
  writeFileSync(out, dpmSolverV3EmsToJson(preset, 6));
  console.log(`wrote ${out} (EMS in ${emsSeconds.toFixed(0)} s)`);
}

main();
