/**
 * Feature caches against the uncached model: for any `BlockDenoiser`, one case per cache policy that
 * times a guided `sample()` run with the cached denoiser against the same run with `fullForward` (same
 * scheduler, steps, noise and conditioning), with the PSNR of the cached sample against the uncached
 * one (@hasten/eval's `psnr`) and the block evaluations actually run as the quality check (pass:
 * PSNR ≥ 30 dB, issue 10's target for the best policy). With `spec.quality`, the check is made on a
 * separate, larger quality set (untimed: one cached run of it per policy against the given uncached
 * sample), with the classifier agreement beside the PSNR (pass: PSNR ≥ 30 dB and agreement ≥ 99 %).
 *
 * bench/run.ts runs `cacheCases` on the trained glyph DiT and UNet (bench/glyphs.ts). Run on its own,
 * this file benchmarks the seeded toy models (src/testing/toy-block-denoiser.ts), whose random weights
 * make the figures a smoke test of the machinery, not of the methods (bench-results/diffusion/caches-toy.json):
 *
 *   npx tsx packages/diffusion/bench/caches.ts [--quick]     (--quick: fewer repeats, writes nothing)
 */
import { parseArgs } from 'node:util';
import { rng } from '@hasten/core-tensor';
import { type BenchmarkCase, defineBenchmark, defineCase, psnr } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import {
  type BlockDenoiser,
  type CachePolicy,
  type CacheStats,
  cachedDenoiser,
  calibrateMagCache,
  deepCache,
  deltaDiT,
  FlowMatchEulerDiscreteScheduler,
  firstBlockCache,
  fora,
  fullForward,
  magCache,
  ras,
  type Scheduler,
  sample,
  ToyBlockDenoiser,
  taylorSeer,
  teaCache,
  toCa,
} from '../src/index';

export interface CacheBenchSpec<C> {
  /** Model name for the case names (e.g. "glyph DiT"). */
  name: string;
  model: BlockDenoiser<C>;
  /** A fresh scheduler of the sampler to run (e.g. () => new FlowMatchEulerDiscreteScheduler()). */
  scheduler: () => Scheduler;
  /** Sampler name for the case names. */
  sampler: string;
  steps: number;
  /** Conditioning per item (its length is the batch). */
  cond: C[];
  guidanceScale: number;
  seed: number;
  /** Value range of a sample for PSNR (2 for images in [−1, 1]). */
  dataRange: number;
  /** Policies to compare (default: every policy that fits the architecture, at its defaults). */
  policies?: { name: string; make: () => CachePolicy<unknown> }[];
  /** Quality set for the check (default: the timed run's own outputs, PSNR only). */
  quality?: CacheQualitySet<C>;
}

export interface CacheQualitySet<C> {
  /** Conditioning per item of the quality set. */
  cond: C[];
  /** Seed of its initial noise. */
  seed: number;
  /** The uncached sample of the quality set (same scheduler, steps, guidance; e.g. memoized). */
  reference: () => Float64Array;
  /** Fraction of items whose classifier prediction equals that of the reference item. */
  agreement?: (x: Float64Array, reference: Float64Array) => number;
  /** Receives each policy's sample of the quality set (e.g. to write an image grid). */
  onSample?: (policy: string, x: Float64Array) => void | Promise<void>;
}

/** Each policy at its defaults; MagCache with ratios calibrated on one run with another seed. */
export function defaultPolicies<C>(
  spec: CacheBenchSpec<C>,
): { name: string; make: () => CachePolicy<unknown> }[] {
  const { model } = spec;
  const magRatios = calibrateMagCache(model, spec.scheduler(), {
    ...sampleOptions(spec),
    noise: rng(spec.seed + 1).normal(spec.cond.length * model.sampleSize),
  });
  const both = [
    { name: 'teaCache', make: () => teaCache() },
    { name: 'magCache', make: () => magCache({ magRatios }) },
  ];
  if (model.architecture === 'unet') return [{ name: 'deepCache', make: () => deepCache() }, ...both];
  return [
    { name: 'fora', make: () => fora() },
    { name: 'deltaDiT', make: () => deltaDiT() },
    { name: 'firstBlockCache', make: () => firstBlockCache() },
    ...both,
    { name: 'taylorSeer', make: () => taylorSeer() },
    { name: 'toCa', make: () => toCa() },
    { name: 'ras', make: () => ras() },
  ];
}

function sampleOptions<C>(spec: CacheBenchSpec<C>) {
  const batch = spec.cond.length;
  return {
    steps: spec.steps,
    batch,
    dim: spec.model.sampleSize,
    noise: rng(spec.seed).normal(batch * spec.model.sampleSize),
    cond: spec.cond,
    guidanceScale: spec.guidanceScale,
  };
}

/** One case per policy: uncached vs cached `sample()` of the same sampler and steps. */
export function cacheCases<C>(spec: CacheBenchSpec<C>): BenchmarkCase<unknown>[] {
  const options = sampleOptions(spec);
  const uncached = fullForward(spec.model);
  const total = 2 * spec.steps * spec.model.numBlocks;
  return (spec.policies ?? defaultPolicies(spec)).map(({ name, make }) =>
    defineCase<{ x: Float64Array; stats?: CacheStats }>({
      name: `${name} vs uncached, ${spec.sampler} ${spec.steps} steps, ${spec.name}`,
      baselineLabel: `uncached, ${spec.steps} steps`,
      methodLabel: `${name}, ${spec.steps} steps`,
      baseline: () => ({ x: sample(spec.scheduler(), uncached, options).sample }),
      method: () => {
        const cached = cachedDenoiser(spec.model, make());
        const x = sample(spec.scheduler(), cached, { ...options, cache: cached }).sample;
        return { x, stats: cached.stats() };
      },
      quality: async (b, m) => {
        const q = spec.quality;
        if (!q) {
          const db = psnr(m.x, b.x, { dataRange: spec.dataRange });
          const evals = m.stats?.blockEvaluations ?? Number.NaN;
          return {
            metric: `PSNR vs uncached (dB); ${evals} of ${total} block evaluations, hit rate ${m.stats?.hitRate.toFixed(2)}`,
            value: db,
            pass: db >= 30,
            threshold: '>= 30 dB',
          };
        }
        const items = q.cond.length;
        const ref = q.reference();
        const cached = cachedDenoiser(spec.model, make());
        const x = sample(spec.scheduler(), cached, {
          ...options,
          batch: items,
          noise: rng(q.seed).normal(items * spec.model.sampleSize),
          cond: q.cond,
          cache: cached,
        }).sample;
        const s = cached.stats();
        const db = psnr(x, ref, { dataRange: spec.dataRange });
        const agree = q.agreement ? q.agreement(x, ref) : Number.NaN;
        await q.onSample?.(name, x);
        const pass = db >= 30 && (Number.isNaN(agree) || agree >= 0.99);
        return {
          metric: `PSNR vs uncached (dB) on ${items} images; classifier agreement ${agree.toFixed(3)}; ${s.blockEvaluations.toFixed(0)} of ${total} block evaluations (both branches), hit rate ${s.hitRate.toFixed(2)}`,
          value: db,
          pass,
          threshold: q.agreement ? '>= 30 dB and agreement >= 0.99' : '>= 30 dB',
        };
      },
    }),
  );
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const toy = (architecture: 'dit' | 'unet') =>
    new ToyBlockDenoiser({ architecture, seed: 3, predictionType: 'flow_prediction' });
  const specs = (['dit', 'unet'] as const).map(
    (arch): CacheBenchSpec<number> => ({
      name: `toy ${arch} (random weights)`,
      model: toy(arch),
      scheduler: () => new FlowMatchEulerDiscreteScheduler(),
      sampler: 'flowmatch-euler',
      steps: 28,
      cond: [1, 2],
      guidanceScale: 3,
      seed: 11,
      dataRange: 4,
    }),
  );
  const definition = defineBenchmark({
    package: 'diffusion',
    name: 'caches-toy',
    description:
      'Feature caches against the uncached model: wall-clock speed-up of a guided sample() run and PSNR of the cached sample against the uncached one (toy random-weight models until the glyph models land).',
    cases: specs.flatMap((s) => cacheCases(s)),
    warmup: 1,
    repeats: args.quick ? 2 : 5,
  });
  await runAndWrite(definition, args.quick ? { write: false } : {});
}
