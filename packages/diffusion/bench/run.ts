/**
 * Sampler quality against function evaluations on Gaussian mixtures (exact denoisers, no training):
 * a 2-D three-class mixture and a 16-D four-class one (src/testing/convergence.ts).
 *
 * - ODE error: RMS distance of each sampler's output to the exact probability-flow ODE solution
 *   from the same initial state (RK4 reference, src/testing/gaussian-mixture.ts), on 256 (2-D) or
 *   128 (16-D) items; for deterministic samplers.
 * - MMD² (Gaussian kernel, ℓ = 0.5·√d) of 2000 (2-D) or 1000 (16-D) samples to the target, with
 *   the target's closed-form kernel means (src/testing/mmd.ts), for every sampler; the floor is the
 *   MMD² of as many exact target samples.
 * Targets: the 2-D three-class mixture (components 4 apart, std 0.3–0.5), the 16-D four-class one,
 * and a smooth 2-D two-component mixture (std 0.5–0.9, overlapping).
 * Cases (timed by the @hasten/eval harness): each fast sampler at 10 steps against DDIM at 50 steps
 * on the same noise, with the check that its ODE error is at most DDIM-50's.
 *
 * Then the trained glyph models (bench/glyphs.ts): sampler quality against NFE (classifier accuracy,
 * Fréchet distance to real glyphs), fast samplers at 10 steps against the 50-step baseline
 * (bench-results/diffusion/glyph-samplers.json), feature caches against the uncached run
 * (bench-results/diffusion/caches.json) and PNG grids (bench-results/diffusion/grids/).
 *
 *   npm run bench -w @hasten/diffusion -- [--quick] [--skip-mixtures] [--skip-glyphs] [--full-glyphs]
 *
 * --quick: short run, writes nothing; --full-glyphs: every glyph sampler at 5/10/20/50 steps (slow).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Philox, rng } from '@hasten/core-tensor';
import { defineBenchmark, defineCase, type Series } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import {
  computeDpmSolverV3Ems,
  DDIMScheduler,
  DDPMScheduler,
  DEISMultistepScheduler,
  type Denoiser,
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  type DPMSolverV3Ems,
  DPMSolverV3Scheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  FlowMatchHeunDiscreteScheduler,
  GaussianMixture,
  HeunDiscreteScheduler,
  LCMScheduler,
  MomentumDPMSolverMultistepScheduler,
  PLMSMomentumScheduler,
  PNDMScheduler,
  type Scheduler,
  sample,
  TimeShiftScheduler,
  UniPCMultistepScheduler,
} from '../src/index';
import { MIXTURE_2D, mixture16d } from '../src/testing/convergence';
import { mmd2ToMixture } from '../src/testing/mmd';
import { SMOOTH_2D } from '../src/testing/statistics';
import { GlyphBench, loadGlyphModels } from './glyphs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-mixtures': { type: 'boolean', default: false },
    'skip-glyphs': { type: 'boolean', default: false },
    'full-glyphs': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const STEPS = quick ? [10, 50] : [5, 10, 20, 50, 100];

type Space = 'vp' | 've' | 'flow';
interface Sampler {
  name: string;
  /** A fresh scheduler for a target (most ignore it; DPM-Solver-v3 needs the target's EMS). */
  make: (t: Target) => Scheduler & { alphasCumprod?: Float64Array };
  space: Space;
  deterministic: boolean;
  /** Largest step count the scheduler accepts (LCM: originalInferenceSteps). */
  maxSteps?: number;
  /** The denoiser the sampler needs in place of the model's (Time-Shift evaluates at shifted timesteps). */
  wrap?: (sch: Scheduler, d: Denoiser<(number | null)[]>) => Denoiser<(number | null)[]>;
}
const SAMPLERS: Sampler[] = [
  {
    name: 'ddim',
    make: () => new DDIMScheduler({ timestepSpacing: 'trailing', clipSample: false }),
    space: 'vp',
    deterministic: true,
  },
  { name: 'euler', make: () => new EulerDiscreteScheduler(), space: 've', deterministic: true },
  { name: 'heun', make: () => new HeunDiscreteScheduler(), space: 've', deterministic: true },
  { name: 'dpmpp-2m', make: () => new DPMSolverMultistepScheduler(), space: 'vp', deterministic: true },
  {
    name: 'dpmpp-3m',
    make: () => new DPMSolverMultistepScheduler({ solverOrder: 3 }),
    space: 'vp',
    deterministic: true,
  },
  { name: 'unipc-bh2', make: () => new UniPCMultistepScheduler(), space: 'vp', deterministic: true },
  {
    name: 'unipc-bh1-o3',
    make: () => new UniPCMultistepScheduler({ solverType: 'bh1', solverOrder: 3 }),
    space: 'vp',
    deterministic: true,
  },
  { name: 'dpmpp-2s', make: () => new DPMSolverSinglestepScheduler(), space: 'vp', deterministic: true },
  { name: 'deis-2', make: () => new DEISMultistepScheduler(), space: 'vp', deterministic: true },
  {
    name: 'pndm-plms',
    make: () => new PNDMScheduler({ skipPrkSteps: true }),
    space: 'vp',
    deterministic: true,
  },
  {
    name: 'flowmatch-euler',
    make: () => new FlowMatchEulerDiscreteScheduler({ shift: 3 }),
    space: 'flow',
    deterministic: true,
  },
  {
    name: 'flowmatch-heun',
    make: () => new FlowMatchHeunDiscreteScheduler({ shift: 3 }),
    space: 'flow',
    deterministic: true,
  },
  {
    name: 'ddpm',
    make: () => new DDPMScheduler({ timestepSpacing: 'trailing', clipSample: false }),
    space: 'vp',
    deterministic: false,
  },
  {
    name: 'euler-ancestral',
    make: () => new EulerAncestralDiscreteScheduler(),
    space: 've',
    deterministic: false,
  },
  {
    name: 'dpmpp-2m-sde',
    make: () => new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++' }),
    space: 'vp',
    deterministic: false,
  },
  { name: 'lcm', make: () => new LCMScheduler(), space: 'vp', deterministic: false, maxSteps: 50 },
  // Momentum (Wizadwongsa et al., ICLR 2024): β = 0.8, the paper's stable-but-accurate setting.
  {
    name: 'plms4-hb-0.8',
    make: () => new PLMSMomentumScheduler({ method: 'hb', order: 4, beta: 0.8, timestepSpacing: 'trailing' }),
    space: 'vp',
    deterministic: true,
  },
  {
    name: 'ghvb2-0.8',
    make: () =>
      new PLMSMomentumScheduler({ method: 'ghvb', order: 2, beta: 0.8, timestepSpacing: 'trailing' }),
    space: 'vp',
    deterministic: true,
  },
  {
    name: 'dpmpp-2m-hb-0.8',
    make: () => new MomentumDPMSolverMultistepScheduler({ beta: 0.8 }),
    space: 'vp',
    deterministic: true,
  },
  // Time-Shift (arXiv 2305.15583) over DDIM, defaults w = 80, t_c = 300: built for a denoiser with
  // exposure bias; the mixtures' denoisers are exact, so this measures what it costs when there is none.
  {
    name: 'ddim-time-shift',
    make: (t) =>
      new TimeShiftScheduler(new DDIMScheduler({ timestepSpacing: 'trailing', clipSample: false }), {
        dim: t.mix.dim,
      }),
    space: 'vp',
    deterministic: true,
    wrap: (sch, d) => (sch as TimeShiftScheduler).wrap(d),
  },
  // DPM-Solver-v3 (arXiv 2310.13268) with EMS computed once per target (emsFor, below).
  {
    name: 'dpm-v3',
    make: (t) => new DPMSolverV3Scheduler({ ems: emsFor(t) }),
    space: 'vp',
    deterministic: true,
  },
];

interface Target {
  name: string;
  mix: GaussianMixture;
  odeItems: number;
  swItems: number;
}
const TARGETS: Target[] = [
  { name: 'mixture-2d', mix: new GaussianMixture(MIXTURE_2D), odeItems: 256, swItems: 2000 },
  { name: 'mixture-16d', mix: new GaussianMixture(mixture16d()), odeItems: 128, swItems: 1000 },
  { name: 'smooth-2d', mix: new GaussianMixture(SMOOTH_2D), odeItems: 256, swItems: 2000 },
];

/**
 * DPM-Solver-v3's empirical model statistics of a target, computed once (256 probability-flow
 * trajectories on 400 λ intervals, as the scheduler's tests; seconds per target) and timed apart from
 * sampling, as the paper precomputes them once per model.
 */
const emsCache = new Map<string, DPMSolverV3Ems>();
function emsFor(t: Target): DPMSolverV3Ems {
  let ems = emsCache.get(t.name);
  if (!ems) {
    const t0 = performance.now();
    const ac = new DPMSolverMultistepScheduler().alphasCumprod;
    ems = computeDpmSolverV3Ems(t.mix.denoiser({ kind: 'vp', alphasCumprod: ac }, 'epsilon'), {
      batch: 256,
      dim: t.mix.dim,
      generator: rng(7),
      gridSize: 400,
      fdStep: 1e-4,
      model: t.name,
    });
    console.log(
      `DPM-Solver-v3 EMS for ${t.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s (once per target)`,
    );
    emsCache.set(t.name, ems);
  }
  return ems;
}

function denoiserFor(
  s: Sampler,
  sch: Scheduler & { alphasCumprod?: Float64Array },
  mix: GaussianMixture,
): Denoiser<(number | null)[]> {
  return s.space === 'flow'
    ? mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction')
    : mix.denoiser({ kind: 'vp', alphasCumprod: sch.alphasCumprod as Float64Array }, 'epsilon');
}

function run(s: Sampler, t: Target, steps: number, batch: number, noise: Float64Array, gen?: Philox) {
  const sch = s.make(t);
  const d = denoiserFor(s, sch, t.mix);
  const r = sample(sch, s.wrap ? s.wrap(sch, d) : d, { steps, batch, dim: t.mix.dim, noise, generator: gen });
  return { x: r.sample, nfe: r.nfe, scheduler: sch };
}

/** The exact ODE solution from the sampler's initial state (cached per start/end state). */
const exactCache = new Map<string, Float64Array>();
function exactFor(s: Sampler, sch: Scheduler, t: Target, z: Float64Array): Float64Array {
  const s0 = sch.sigmas[0];
  const s1 = sch.sigmas[sch.sigmas.length - 1];
  const key = `${t.name}|${s.space}|${s0}|${s1}|${sch.initNoiseSigma}`;
  let e = exactCache.get(key);
  if (!e) {
    const x0 = z.map((v) => v * sch.initNoiseSigma);
    if (s.space === 'flow') e = t.mix.flowOdeSolve(x0, s0, s1, 1000);
    else {
      const a0 = s.space === 'vp' ? 1 / Math.sqrt(1 + s0 * s0) : 1;
      e = t.mix.odeSolve(
        x0.map((v) => v / a0),
        s0,
        s1,
        1000,
      );
    }
    exactCache.set(key, e);
  }
  return e;
}

function rmse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

async function mixtures() {
  const series: Series[] = [];
  const table: string[] = [];
  for (const t of TARGETS) {
    const d = t.mix.dim;
    const zOde = rng(1).normal(t.odeItems * d);
    const zSw = rng(2).normal(t.swItems * d);
    const ell = 0.5 * Math.sqrt(d);
    const floor = mmd2ToMixture(t.mix.sample(t.swItems, rng(4)).x, t.mix, ell);
    const odeLines: Series['lines'] = [];
    const swLines: Series['lines'] = [];
    for (const s of SAMPLERS) {
      const odePts: { x: number; y: number }[] = [];
      const swPts: { x: number; y: number }[] = [];
      for (const n of STEPS) {
        if (s.maxSteps !== undefined && n > s.maxSteps) continue;
        const sw = run(s, t, n, t.swItems, zSw, rng(5));
        const w = mmd2ToMixture(sw.x, t.mix, ell);
        swPts.push({ x: sw.nfe, y: Math.max(Math.abs(w), 1e-9) });
        let e = Number.NaN;
        if (s.deterministic) {
          const r = run(s, t, n, t.odeItems, zOde);
          e = rmse(r.x, exactFor(s, r.scheduler, t, zOde));
          odePts.push({ x: r.nfe, y: e });
        }
        table.push(
          `| ${t.name} | ${s.name} | ${n} | ${sw.nfe} | ${Number.isNaN(e) ? '–' : e.toExponential(2)} | ${w.toExponential(2)} |`,
        );
      }
      if (odePts.length) odeLines.push({ label: s.name, points: odePts });
      swLines.push({ label: s.name, points: swPts });
    }
    swLines.push({
      label: 'exact target samples (floor)',
      points: STEPS.map((n) => ({ x: n, y: Math.abs(floor) })),
    });
    table.push(`| ${t.name} | (floor: exact target samples) | – | – | – | ${floor.toExponential(2)} |`);
    series.push({
      kind: 'quality-vs-steps',
      name: `ode-error-${t.name}`,
      title: `RMS distance to the exact PF-ODE solution, ${t.name}`,
      xLabel: 'function evaluations',
      yLabel: 'RMS error',
      xScale: 'log',
      yScale: 'log',
      lines: odeLines,
    });
    series.push({
      kind: 'quality-vs-steps',
      name: `mmd-${t.name}`,
      title: `MMD² to the target (|value|, Gaussian kernel ℓ = 0.5√d), ${t.name}`,
      xLabel: 'function evaluations',
      yLabel: 'MMD²',
      xScale: 'log',
      yScale: 'log',
      lines: swLines,
    });
  }

  const FAST = ['dpmpp-2m', 'dpmpp-3m', 'unipc-bh2', 'unipc-bh1-o3', 'dpm-v3'];
  const ddim = SAMPLERS[0];
  const cases = TARGETS.flatMap((t) => {
    const z = rng(1).normal(t.odeItems * t.mix.dim);
    return FAST.map((name) => {
      const s = SAMPLERS.find((x) => x.name === name) as Sampler;
      return defineCase<{ x: Float64Array; scheduler: Scheduler }>({
        name: `${name} 10 steps vs ddim 50 steps, exact denoiser of ${t.name}`,
        baselineLabel: 'DDIM, 50 steps',
        methodLabel: `${name}, 10 steps`,
        baseline: () => run(ddim, t, 50, t.odeItems, z),
        method: () => run(s, t, 10, t.odeItems, z),
        quality: (b, m) => {
          const eb = rmse(b.x, exactFor(ddim, b.scheduler, t, z));
          const em = rmse(m.x, exactFor(s, m.scheduler, t, z));
          return {
            metric: `ODE RMS error ${name}@10 / ddim@50 (${em.toExponential(2)} / ${eb.toExponential(2)})`,
            value: em / eb,
            pass: em <= eb,
            threshold: '<= 1',
          };
        },
      });
    });
  });

  const definition = defineBenchmark({
    package: 'diffusion',
    name: 'samplers',
    description:
      'Sampler accuracy against function evaluations on Gaussian mixtures with exact denoisers: RMS distance to the exact PF-ODE solution and MMD² to the target; fast samplers at 10 steps against DDIM at 50.',
    cases,
    warmup: 1,
    repeats: quick ? 3 : 7,
    series,
  });
  await runAndWrite(definition, quick ? { write: false } : {});
  console.log('\n| target | sampler | steps | NFE | ODE RMS error | MMD² |\n|---|---|---|---|---|---|');
  console.log(table.join('\n'));
}

/** The trained glyph models: sampler sweep, timed sampler cases, cache cases, grids. */
async function glyphs() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const bench = new GlyphBench(await loadGlyphModels(root), {
    quick,
    full: args['full-glyphs'],
    gridDir: quick ? null : join(root, 'bench-results', 'diffusion', 'grids'),
  });
  const t0 = performance.now();
  const series = await bench.sweep();
  console.log(`glyph sampler sweep: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  // Timed on one image (two CFG branches); the quality check reads the sweep's 12-image figures.
  await runAndWrite(
    defineBenchmark({
      package: 'diffusion',
      name: 'glyph-samplers',
      description: `Samplers on the trained glyph models (UNet: epsilon, DiT: flow matching), CFG ${3}, one image per class of 12 classes with fixed noise: classifier accuracy and Fréchet distance (classifier features) to real held-out-font glyphs against NFE; fast samplers at 10 steps against the 50-step baseline (timed on one image, quality from the 12-image set).`,
      cases: bench.samplerCases(1),
      warmup: 0,
      repeats: quick ? 1 : 2,
      series,
      images: () => bench.grids.samplers,
    }),
    quick ? { write: false } : {},
  );
  console.log('\n| model | sampler | steps | NFE | accuracy | FD |\n|---|---|---|---|---|---|');
  for (const r of bench.rows) {
    console.log(
      `| ${r.model} | ${r.sampler} | ${r.steps} | ${r.nfe} | ${r.accuracy.toFixed(3)} | ${r.fd.toFixed(2)} |`,
    );
  }
  await runAndWrite(
    defineBenchmark({
      package: 'diffusion',
      name: 'caches',
      description:
        'Feature caches on the trained glyph DiT (FlowMatch Euler, 50 steps) and UNet (DDIM, 20 steps), CFG 3: wall-clock speed-up of a guided sample() of one image against the uncached run of the same sampler, steps and noise; quality on 12 images (one per class): PSNR (data range 2) and classifier agreement against the uncached samples.',
      cases: bench.cacheCases(1, { dit: quick ? 10 : 50, unet: quick ? 10 : 20 }),
      warmup: 0,
      repeats: quick ? 1 : 2,
      images: () => bench.grids.caches,
    }),
    quick ? { write: false } : {},
  );
}

if (!args['skip-mixtures']) await mixtures();
if (!args['skip-glyphs']) await glyphs();
