/**
 * Samplers and feature caches on the trained glyph models (fixtures/glyph-dit: flow matching;
 * fixtures/glyph-unet: ε prediction; both class-conditional, 32x32 glyphs in [−1, 1], classifier-free
 * guidance), scored with the glyph classifier (fixtures/glyph-classifier):
 *
 * - accuracy: fraction of samples that the classifier assigns to their conditioning label;
 * - FD: Fréchet distance (Heusel et al., arXiv 1706.08500; @hasten/eval's `frechetDistanceFromStatistics`)
 *   of the samples' classifier features to those of real held-out-font glyphs of the same classes
 *   (fixtures/glyph-classifier/real-features.json, written by bench/glyph-reference.ts from
 *   tools/fixtures/glyphs.py renders; never from a sampler's output). At this sample count the FD is
 *   dominated by its small-sample bias: the file records the FD of real sets of the same size (the floor).
 *
 * Sampler quality against function evaluations on a fixed set (one image per class of the 12 bench classes,
 * fixed noise), the issue-10 check "DPM-Solver++ 2M or UniPC at 10 steps at least as good as DDIM at 50",
 * timed cases (fast sampler at 10 steps against DDIM / FlowMatch Euler at 50 on the same noise), cache
 * cases through bench/caches.ts (`cacheCases`) with PSNR and classifier agreement on the same quality set,
 * and PNG grids (one row of the 12 classes per sampler and per cache, through sharp) under
 * bench-results/diffusion/grids/. Called from bench/run.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { rng } from '@hasten/core-tensor';
import {
  type BenchImage,
  type BenchmarkCase,
  defineCase,
  type FeatureStatistics,
  featureStatistics,
  frechetDistanceFromStatistics,
  type Series,
} from '@hasten/eval';
import { findRepoRoot } from '@hasten/eval/node';
import sharp from 'sharp';
import {
  type BlockDenoiser,
  calibrateMagCache,
  DDIMScheduler,
  DDPMScheduler,
  DEISMultistepScheduler,
  type DiT,
  DPMSolverMultistepScheduler,
  deepCache,
  deltaDiT,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  FlowMatchHeunDiscreteScheduler,
  firstBlockCache,
  fora,
  fullForward,
  type GlyphClassifier,
  HeunDiscreteScheduler,
  magCache,
  PNDMScheduler,
  ras,
  type Scheduler,
  sample,
  taylorSeer,
  teaCache,
  toCa,
  type UNet,
  UniPCMultistepScheduler,
} from '../src/index';
import { loadDiT, loadGlyphClassifier, loadUNet } from '../src/node';
import { type CacheBenchSpec, cacheCases } from './caches';

/** Classifier-free guidance scale (the DiT fixture's own grid uses 3, glyph_dit.py --grid). */
export const GUIDANCE = 3;
const NOISE_SEED = 100;

interface RealFeatures {
  classes: number[];
  items: number;
  classifierAccuracy: number;
  floor: { perClass: number; items: number; draws: number; mean: number; sd: number }[];
  mean: number[];
  cov: number[];
}

export interface GlyphModels {
  dit: DiT;
  unet: UNet;
  classifier: GlyphClassifier;
  real: RealFeatures;
  reference: Pick<FeatureStatistics, 'mean' | 'cov'>;
}

export async function loadGlyphModels(root: string): Promise<GlyphModels> {
  const fx = (n: string) => join(root, 'fixtures', n);
  const real = JSON.parse(
    readFileSync(join(fx('glyph-classifier'), 'real-features.json'), 'utf8'),
  ) as RealFeatures;
  return {
    dit: await loadDiT(fx('glyph-dit')),
    unet: await loadUNet(fx('glyph-unet')),
    classifier: await loadGlyphClassifier(fx('glyph-classifier')),
    real,
    reference: { mean: Float64Array.from(real.mean), cov: Float64Array.from(real.cov) },
  };
}

interface GlyphSampler {
  name: string;
  make: () => Scheduler;
  steps: number[];
}

/** ε-prediction samplers for the UNet (linear betas 1e-4..0.02, 1000 steps: the schedulers' defaults). */
function unetSamplers(full: boolean): GlyphSampler[] {
  const all = [5, 10, 20, 50];
  const s = (name: string, make: () => Scheduler, steps: number[]) => ({
    name,
    make,
    steps: full ? all : steps,
  });
  return [
    s('ddim', () => new DDIMScheduler({ timestepSpacing: 'trailing', clipSample: false }), [10, 20, 50]),
    s('dpmpp-2m', () => new DPMSolverMultistepScheduler(), [5, 10, 20]),
    s('unipc-bh2', () => new UniPCMultistepScheduler(), [5, 10]),
    s('euler', () => new EulerDiscreteScheduler(), [10]),
    s('euler-ancestral', () => new EulerAncestralDiscreteScheduler(), [10]),
    s('ddpm', () => new DDPMScheduler({ timestepSpacing: 'trailing', clipSample: false }), [10]),
    s('deis-2', () => new DEISMultistepScheduler(), [10]),
    s('pndm-plms', () => new PNDMScheduler({ skipPrkSteps: true }), [10]),
    s('heun', () => new HeunDiscreteScheduler(), [5]),
  ];
}

/** Flow-prediction samplers for the DiT (trained with shift 1: config.json `scheduler`). */
function ditSamplers(full: boolean): GlyphSampler[] {
  const all = [5, 10, 20, 50];
  const s = (name: string, make: () => Scheduler, steps: number[]) => ({
    name,
    make,
    steps: full ? all : steps,
  });
  const flow = { predictionType: 'flow_prediction', useFlowSigmas: true, flowShift: 1 } as const;
  return [
    s('flowmatch-euler', () => new FlowMatchEulerDiscreteScheduler({ shift: 1 }), [5, 10, 20, 50]),
    s('flowmatch-heun', () => new FlowMatchHeunDiscreteScheduler({ shift: 1 }), [5, 10]),
    s('dpmpp-2m-flow', () => new DPMSolverMultistepScheduler(flow), [5, 10, 20]),
    s('unipc-bh2-flow', () => new UniPCMultistepScheduler(flow), [10]),
  ];
}

interface ModelSpec {
  key: 'unet' | 'dit';
  label: string;
  model: BlockDenoiser<number>;
  samplers: GlyphSampler[];
  /** Baseline of the check and of the timed cases, at 50 steps. */
  baseline: string;
  fast: string[];
}

export interface GlyphRow {
  model: string;
  sampler: string;
  steps: number;
  nfe: number;
  accuracy: number;
  fd: number;
}

export interface GlyphBenchOptions {
  quick: boolean;
  /** Every sampler at 5/10/20/50 steps (slow). */
  full: boolean;
  /** Folder for PNG grids (null: none). */
  gridDir: string | null;
}

/** 32x32 images in [−1, 1] as one row, each upscaled 2x (nearest), grayscale PNG. */
export async function writeGrid(path: string, x: ArrayLike<number>, items: number): Promise<void> {
  const S = 32;
  const px = new Uint8Array(S * S * items);
  for (let b = 0; b < items; b++) {
    for (let y = 0; y < S; y++) {
      for (let c = 0; c < S; c++) {
        const v = Math.round((x[b * S * S + y * S + c] + 1) * 127.5);
        px[y * S * items + b * S + c] = Math.max(0, Math.min(v, 255));
      }
    }
  }
  await sharp(Buffer.from(px), { raw: { width: S * items, height: S, channels: 1 } })
    .resize({ width: 2 * S * items, height: 2 * S, kernel: 'nearest' })
    .png({ compressionLevel: 9, palette: false })
    .toFile(path);
}

export class GlyphBench {
  readonly rows: GlyphRow[] = [];
  /** The PNG grids written, for the report (`images` of the results; paths from the repository root). */
  readonly grids: { samplers: BenchImage[]; caches: BenchImage[] } = { samplers: [], caches: [] };
  readonly classes: number[];
  readonly items: number;
  private readonly memo = new Map<string, { x: Float64Array; nfe: number }>();
  private readonly specs: ModelSpec[];

  constructor(
    readonly m: GlyphModels,
    readonly options: GlyphBenchOptions,
  ) {
    this.classes = m.real.classes;
    this.items = this.classes.length;
    if (options.gridDir) mkdirSync(options.gridDir, { recursive: true });
    this.specs = [
      {
        key: 'unet',
        label: 'glyph UNet',
        model: m.unet,
        samplers: unetSamplers(options.full),
        baseline: 'ddim',
        fast: ['dpmpp-2m', 'unipc-bh2'],
      },
      {
        key: 'dit',
        label: 'glyph DiT',
        model: m.dit,
        samplers: ditSamplers(options.full),
        baseline: 'flowmatch-euler',
        fast: ['dpmpp-2m-flow'],
      },
    ];
    if (options.quick) {
      for (const s of this.specs) {
        s.samplers = s.samplers
          .filter((x) => x.name === s.baseline || s.fast.includes(x.name))
          .map((x) => ({ ...x, steps: x.name === s.baseline ? [10, 50] : [10] }));
      }
    }
  }

  /** Guided sample of `batch` items (labels cycle through the bench classes), fixed noise per item. */
  private run(spec: ModelSpec, sampler: GlyphSampler, steps: number, batch: number) {
    const key = `${spec.key}|${sampler.name}|${steps}|${batch}`;
    let r = this.memo.get(key);
    if (!r) {
      const res = sample(sampler.make(), fullForward(spec.model), this.sampleOptions(spec, steps, batch));
      r = { x: res.sample, nfe: res.nfe };
      this.memo.set(key, r);
    }
    return r;
  }

  sampleOptions(spec: { model: BlockDenoiser<number> }, steps: number, batch: number) {
    const dim = spec.model.sampleSize;
    return {
      steps,
      batch,
      dim,
      noise: rng(NOISE_SEED).normal(batch * dim),
      cond: Array.from({ length: batch }, (_, i) => this.classes[i % this.items]),
      guidanceScale: GUIDANCE,
      /** For the stochastic samplers (DDPM, Euler ancestral); fresh per run, so runs are reproducible. */
      generator: rng(NOISE_SEED + 1),
    };
  }

  accuracy(x: Float64Array): number {
    const p = this.m.classifier.predict(x);
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === this.classes[i % this.items]) ok++;
    return ok / p.length;
  }

  fd(x: Float64Array): number {
    return frechetDistanceFromStatistics(featureStatistics(this.m.classifier.features(x)), this.m.reference);
  }

  /** Agreement of classifier predictions of `x` with those of `reference`. */
  agreement(x: Float64Array, reference: Float64Array): number {
    const a = this.m.classifier.predict(x);
    const b = this.m.classifier.predict(reference);
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    return same / a.length;
  }

  /** Writes one row of samples as a PNG grid (when grids are on) and lists it under `kind`. */
  private async grid(kind: 'samplers' | 'caches', title: string, file: string, x: ArrayLike<number>) {
    if (!this.options.gridDir) return;
    const path = join(this.options.gridDir, file);
    await writeGrid(path, x, this.items);
    const list = this.grids[kind];
    const entry = { title, path: relative(findRepoRoot(), path).split('\\').join('/') };
    const at = list.findIndex((g) => g.path === entry.path);
    if (at >= 0) list[at] = entry;
    else list.push(entry);
  }

  /** Quality against NFE for every sampler of both models; fills `rows`, writes grids. */
  async sweep(log: (s: string) => void = console.log): Promise<Series[]> {
    const series: Series[] = [];
    for (const spec of this.specs) {
      const acc: Series['lines'] = [];
      const fds: Series['lines'] = [];
      for (const s of spec.samplers) {
        const ap: { x: number; y: number }[] = [];
        const fp: { x: number; y: number }[] = [];
        for (const steps of s.steps) {
          const t0 = performance.now();
          const { x, nfe } = this.run(spec, s, steps, this.items);
          const row = {
            model: spec.label,
            sampler: s.name,
            steps,
            nfe,
            accuracy: this.accuracy(x),
            fd: this.fd(x),
          };
          this.rows.push(row);
          ap.push({ x: nfe, y: row.accuracy });
          fp.push({ x: nfe, y: row.fd });
          log(
            `${spec.label} ${s.name} ${steps} steps (${nfe} NFE): accuracy ${row.accuracy.toFixed(3)}, FD ${row.fd.toFixed(2)} [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
          );
          await this.grid(
            'samplers',
            `${spec.label} ${s.name}, ${steps} steps`,
            `${spec.key}-${s.name}-${steps}.png`,
            x,
          );
        }
        acc.push({ label: s.name, points: ap });
        fds.push({ label: s.name, points: fp });
      }
      const floor = this.m.real.floor.find((f) => f.items === this.items);
      if (floor)
        fds.push({
          label: 'real held-out glyphs (floor)',
          points: [5, 50].map((x) => ({ x, y: floor.mean })),
        });
      series.push({
        kind: 'quality-vs-steps',
        name: `glyph-accuracy-${spec.key}`,
        title: `Classifier accuracy of ${spec.label} samples (CFG ${GUIDANCE}, ${this.items} images, one per class)`,
        xLabel: 'function evaluations',
        yLabel: 'accuracy',
        xScale: 'log',
        lines: acc,
      });
      series.push({
        kind: 'quality-vs-steps',
        name: `glyph-fd-${spec.key}`,
        title: `Fréchet distance (classifier features) of ${spec.label} samples to real held-out glyphs, ${this.items} images`,
        xLabel: 'function evaluations',
        yLabel: 'FD',
        xScale: 'log',
        yScale: 'log',
        lines: fds,
      });
    }
    return series;
  }

  private row(model: string, sampler: string, steps: number): GlyphRow | undefined {
    return this.rows.find((r) => r.model === model && r.sampler === sampler && r.steps === steps);
  }

  /**
   * Fast sampler at 10 steps against the baseline at 50 on the same noise (timed on `timedItems` images);
   * the quality check uses the sweep's figures on the full quality set (same noise, same labels):
   * pass when the fast sampler's accuracy is at least the baseline's and its FD at most the baseline's.
   */
  samplerCases(timedItems: number): BenchmarkCase<unknown>[] {
    return this.specs.flatMap((spec) => {
      const base = spec.samplers.find((s) => s.name === spec.baseline) as GlyphSampler;
      return spec.fast.map((name) => {
        const fast = spec.samplers.find((s) => s.name === name) as GlyphSampler;
        const opts = (steps: number) => this.sampleOptions(spec, steps, timedItems);
        return defineCase<Float64Array>({
          name: `${name} 10 steps vs ${spec.baseline} 50 steps, ${spec.label}`,
          baselineLabel: `${spec.baseline}, 50 steps`,
          methodLabel: `${name}, 10 steps`,
          baseline: () => sample(base.make(), fullForward(spec.model), opts(50)).sample,
          method: () => sample(fast.make(), fullForward(spec.model), opts(10)).sample,
          quality: () => {
            const b = this.row(spec.label, base.name, 50) ?? this.rowOf(spec, base, 50);
            const f = this.row(spec.label, fast.name, 10) ?? this.rowOf(spec, fast, 10);
            return {
              metric: `FD ${name}@10 / ${spec.baseline}@50 (${f.fd.toFixed(2)} / ${b.fd.toFixed(2)}); accuracy ${f.accuracy.toFixed(3)} vs ${b.accuracy.toFixed(3)} (${this.items} images)`,
              value: f.fd / b.fd,
              pass: f.fd <= b.fd && f.accuracy >= b.accuracy,
              threshold: 'FD ratio <= 1 and accuracy >= baseline',
            };
          },
        });
      });
    });
  }

  private rowOf(spec: ModelSpec, s: GlyphSampler, steps: number): GlyphRow {
    const { x, nfe } = this.run(spec, s, steps, this.items);
    return { model: spec.label, sampler: s.name, steps, nfe, accuracy: this.accuracy(x), fd: this.fd(x) };
  }

  /** The uncached sample of the quality set (shared with the sweep when it ran the same sampler/steps). */
  reference(key: 'unet' | 'dit', sampler: string, steps: number): Float64Array {
    const spec = this.specs.find((s) => s.key === key) as ModelSpec;
    const s = spec.samplers.find((x) => x.name === sampler) as GlyphSampler;
    return this.run(spec, s, steps, this.items).x;
  }

  /** Cache cases on both models (policy grids below), timed on `timedItems` images. */
  cacheCases(timedItems: number, steps: { dit: number; unet: number }): BenchmarkCase<unknown>[] {
    const out: BenchmarkCase<unknown>[] = [];
    const quick = this.options.quick;
    for (const spec of this.specs) {
      const sampler = spec.samplers.find((s) => s.name === spec.baseline) as GlyphSampler;
      const n = steps[spec.key];
      const timed = this.sampleOptions(spec, n, timedItems);
      const quality = this.sampleOptions(spec, n, this.items);
      const base: CacheBenchSpec<number> = {
        name: spec.label,
        model: spec.model,
        scheduler: sampler.make,
        sampler: sampler.name,
        steps: n,
        cond: timed.cond,
        guidanceScale: GUIDANCE,
        seed: NOISE_SEED,
        dataRange: 2,
        quality: {
          cond: quality.cond,
          seed: NOISE_SEED,
          reference: () => this.reference(spec.key, sampler.name, n),
          agreement: (x, ref) => this.agreement(x, ref),
          onSample: this.options.gridDir
            ? (policy, x) =>
                this.grid(
                  'caches',
                  `${spec.label} ${sampler.name} ${n} steps, cache ${policy}`,
                  `${spec.key}-cache-${policy}-${sampler.name}-${n}.png`,
                  x,
                )
            : undefined,
        },
      };
      const policies = spec.key === 'unet' ? unetPolicies(quick) : ditPolicies(spec.model, base, quick);
      out.push(...cacheCases({ ...base, policies }));
    }
    return out;
  }
}

type PolicyList = NonNullable<CacheBenchSpec<number>['policies']>;

/** DeepCache (its paper: intervals 2–10 on the UNet's skip branch) and TeaCache on the whole stack. */
function unetPolicies(quick: boolean): PolicyList {
  const list: PolicyList = [
    { name: 'deepCache-i3', make: () => deepCache({ cacheInterval: 3 }) },
    { name: 'teaCache-0.1', make: () => teaCache({ relL1Thresh: 0.1 }) },
  ];
  return quick ? list.slice(0, 1) : list;
}

/** Every DiT policy, a few settings each around its paper's defaults. */
function ditPolicies(model: BlockDenoiser<number>, spec: CacheBenchSpec<number>, quick: boolean): PolicyList {
  if (quick) return [{ name: 'fora-i2', make: () => fora({ cacheInterval: 2 }) }];
  const calib = {
    steps: spec.steps,
    batch: spec.cond.length,
    dim: model.sampleSize,
    noise: rng(spec.seed + 1).normal(spec.cond.length * model.sampleSize),
    cond: spec.cond,
    guidanceScale: spec.guidanceScale,
  };
  const magRatios = calibrateMagCache(model, spec.scheduler(), calib);
  return [
    { name: 'fora-i2', make: () => fora({ cacheInterval: 2 }) },
    { name: 'fora-i3', make: () => fora({ cacheInterval: 3 }) },
    { name: 'deltaDiT-i2', make: () => deltaDiT({ cacheInterval: 2 }) },
    { name: 'firstBlockCache-0.05', make: () => firstBlockCache({ threshold: 0.05 }) },
    { name: 'teaCache-0.1', make: () => teaCache({ relL1Thresh: 0.1 }) },
    { name: 'teaCache-0.15', make: () => teaCache({ relL1Thresh: 0.15 }) },
    { name: 'teaCache-0.2', make: () => teaCache({ relL1Thresh: 0.2 }) },
    { name: 'teaCache-0.4', make: () => teaCache({ relL1Thresh: 0.4 }) },
    { name: 'magCache-0.24', make: () => magCache({ magRatios, threshold: 0.24 }) },
    {
      name: 'taylorSeer-i3-o1',
      make: () => taylorSeer({ cacheInterval: 3, maxOrder: 1, disableCacheBeforeStep: 5 }),
    },
    {
      name: 'taylorSeer-i4-o1',
      make: () => taylorSeer({ cacheInterval: 4, maxOrder: 1, disableCacheBeforeStep: 5 }),
    },
    {
      name: 'taylorSeer-i5-o1',
      make: () => taylorSeer({ cacheInterval: 5, maxOrder: 1, disableCacheBeforeStep: 5 }),
    },
    {
      name: 'taylorSeer-i6-o1',
      make: () => taylorSeer({ cacheInterval: 6, maxOrder: 1, disableCacheBeforeStep: 5 }),
    },
    {
      name: 'taylorSeer-i8-o1',
      make: () => taylorSeer({ cacheInterval: 8, maxOrder: 1, disableCacheBeforeStep: 5 }),
    },
    {
      name: 'taylorSeer-i5-o2',
      make: () => taylorSeer({ cacheInterval: 5, maxOrder: 2, disableCacheBeforeStep: 5 }),
    },

    { name: 'toCa', make: () => toCa() },
    { name: 'ras', make: () => ras() },
  ];
}
