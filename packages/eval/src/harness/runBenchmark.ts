import { z } from 'zod';
import { speedup } from '../metrics/speedup.js';
import { summarize } from '../metrics/summarize.js';
import { fail, parseOptions } from '../util/check.js';
import type { BenchmarkCase, BenchmarkDefinition, BenchSide } from './benchmark.js';
import { detectEnvironment, environmentInputSchema } from './environment.js';
import {
  BENCH_SCHEMA_VERSION,
  type BenchResult,
  benchImageSchema,
  type CaseResult,
  type Environment,
  environmentSchema,
  parseBenchResult,
  qualityCheckSchema,
  seriesSchema,
} from './schema.js';

// The runner. Per case: setup, warm-up rounds, then `repeats` measured rounds in which the baseline and
// the method run back to back in this process (interleaved, so drift of clock speed or heat hits both
// sides alike; 'abba' also alternates which runs first). Reports median and MAD/IQR per side, the
// speed-up median(baseline)/median(method) with a paired bootstrap CI, and the quality check on the
// outputs of the last round. Calls too fast to time one by one are averaged over `batch` calls per
// sample, or over as many as fill `sampleMs` (calibrated per side after the warm-up). Isomorphic:
// timing is `performance.now()`; writing files is in node.ts.

const slug = /^[a-z0-9][a-z0-9._-]*$/;
const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `must be ${what}` });
const caseSchema = z
  .object({
    name: z.string().min(1),
    baselineLabel: z.string().min(1).optional(),
    methodLabel: z.string().min(1).optional(),
    baseline: fn('a function'),
    method: fn('a function'),
    quality: fn('a function (baselineOut, methodOut) => { metric, value, pass }').optional(),
    work: z
      .object({ amount: z.number().positive(), unit: z.string().min(1) })
      .strict()
      .optional(),
    batch: z.number().int().min(1).optional(),
    sampleMs: z.number().positive().optional(),
    beforeSample: fn('a function (side, calls) => void').optional(),
    warmup: z.number().int().min(0).optional(),
    repeats: z.number().int().min(1).optional(),
    setup: fn('a function').optional(),
    teardown: fn('a function').optional(),
  })
  .strict();
const definitionSchema = z
  .object({
    package: z.string().regex(slug, 'must be a lower-case slug like "decoding"'),
    name: z.string().regex(slug, 'must be a lower-case slug like "speculative"'),
    description: z.string().optional(),
    cases: z
      .array(caseSchema)
      .min(1, 'must hold at least one case')
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, {
        message: 'case names must be unique',
      }),
    warmup: z.number().int().min(0).default(2),
    repeats: z.number().int().min(1).default(10),
    interleave: z.enum(['ab', 'abba']).default('abba'),
    confidence: z.number().gt(0).lt(1).default(0.95),
    resamples: z.number().int().min(100).default(2000),
    seed: z.number().int().default(0),
    // Checked in full (against seriesSchema) once resolved, after the cases ran.
    series: z.union([z.array(z.unknown()), fn('an array of series or a function returning one')]).optional(),
    images: z.union([z.array(z.unknown()), fn('an array of images or a function returning one')]).optional(),
    environment: environmentInputSchema.optional(),
  })
  .strict();

const runOptionsSchema = z
  .object({
    environment: environmentSchema.optional(),
    onProgress: fn('a function (progress) => void').optional(),
    clock: fn('a function returning milliseconds').optional(),
    warmup: z.number().int().min(0).optional(),
    repeats: z.number().int().min(1).optional(),
    createdAt: z.date().optional(),
  })
  .strict();

export interface BenchProgress {
  bench: string;
  caseName: string;
  caseIndex: number;
  caseCount: number;
  phase: 'warmup' | 'measure' | 'quality';
  /** Timed calls done so far over the whole benchmark, and the total. */
  done: number;
  total: number;
}

export interface RunOptions {
  /** Full environment record (Node: from collectEnvironment); default: detectEnvironment(). */
  environment?: Environment;
  onProgress?: (p: BenchProgress) => void;
  /** Millisecond clock; default performance.now. Tests inject a fake one. */
  clock?: () => number;
  /** Override the definition's warm-up / repeats (e.g. a quick CI run). */
  warmup?: number;
  repeats?: number;
  /** Timestamp for the result; default now. */
  createdAt?: Date;
}

export async function runBenchmark(
  definition: BenchmarkDefinition,
  options: RunOptions = {},
): Promise<BenchResult> {
  const def = parseOptions(definitionSchema, definition, 'runBenchmark');
  parseOptions(runOptionsSchema, options, 'runBenchmark (run options)');
  const clock = options.clock ?? (() => performance.now());
  const warmupDefault = options.warmup ?? def.warmup;
  const repeatsDefault = options.repeats ?? def.repeats;
  const cases = definition.cases;
  const plan = cases.map((c) => ({
    warmup: options.warmup ?? c.warmup ?? warmupDefault,
    repeats: options.repeats ?? c.repeats ?? repeatsDefault,
  }));
  const total = plan.reduce((s, p) => s + 2 * (p.warmup + p.repeats), 0);
  let done = 0;
  const results: CaseResult[] = [];
  for (let ci = 0; ci < cases.length; ci++) {
    const c = cases[ci]!;
    const { warmup, repeats } = plan[ci]!;
    const progress = (phase: BenchProgress['phase']) =>
      options.onProgress?.({
        bench: `${def.package}/${def.name}`,
        caseName: c.name,
        caseIndex: ci,
        caseCount: cases.length,
        phase,
        done,
        total,
      });
    await c.setup?.();
    try {
      const batch = c.batch ?? 1;
      for (let w = 0; w < warmup; w++) {
        await c.baseline();
        done++;
        await c.method();
        done++;
        progress('warmup');
      }
      const calls = { baseline: batch, method: batch };
      if (c.sampleMs !== undefined) {
        for (const side of ['baseline', 'method'] as const) {
          calls[side] = await calibrate(c, side, batch, c.sampleMs, clock);
        }
      }
      const bt: number[] = [];
      const mt: number[] = [];
      let lastBaseline: unknown;
      let lastMethod: unknown;
      for (let r = 0; r < repeats; r++) {
        const methodFirst = def.interleave === 'abba' && r % 2 === 1;
        for (const side of methodFirst
          ? (['method', 'baseline'] as const)
          : (['baseline', 'method'] as const)) {
          await c.beforeSample?.(side, calls[side]);
          const { ms, out } = await timeCall(c, side, calls[side], clock);
          if (side === 'baseline') {
            bt.push(ms);
            lastBaseline = out;
          } else {
            mt.push(ms);
            lastMethod = out;
          }
          done++;
        }
        progress('measure');
      }
      progress('quality');
      results.push(await caseResult(c, bt, mt, calls, lastBaseline, lastMethod, def));
    } finally {
      await c.teardown?.();
    }
  }
  const series = await resolveSeries(definition);
  const images = await resolveImages(definition);
  return parseBenchResult(
    {
      schema: BENCH_SCHEMA_VERSION,
      package: def.package,
      bench: def.name,
      ...(def.description === undefined ? {} : { description: def.description }),
      createdAt: (options.createdAt ?? new Date()).toISOString(),
      config: {
        warmup: warmupDefault,
        repeats: repeatsDefault,
        interleave: def.interleave,
        confidence: def.confidence,
        resamples: def.resamples,
        seed: def.seed,
      },
      environment: options.environment ?? detectEnvironment(definition.environment),
      cases: results,
      series,
      ...(images.length > 0 ? { images } : {}),
    },
    `runBenchmark(${def.package}/${def.name})`,
  );
}

/** Most calls per sample that `sampleMs` may ask for. */
const MAX_CALLS = 2 ** 20;

/**
 * Calls per sample so that one sample lasts about `sampleMs`: times 1, 2, 4, ... calls until they
 * take at least a quarter of `sampleMs` (so one slow first call does not set the count), then
 * scales; at least `batch`, at most MAX_CALLS.
 */
async function calibrate(
  c: BenchmarkCase<unknown>,
  side: BenchSide,
  batch: number,
  sampleMs: number,
  clock: () => number,
): Promise<number> {
  const fn = c[side];
  for (let n = 1; ; n *= 2) {
    const t0 = clock();
    for (let i = 0; i < n; i++) await fn();
    const elapsed = clock() - t0;
    if (elapsed > 0 && (elapsed >= sampleMs / 4 || n >= MAX_CALLS)) {
      return Math.min(MAX_CALLS, Math.max(batch, Math.ceil((sampleMs * n) / elapsed)));
    }
    if (n >= MAX_CALLS) {
      return fail(
        'runBenchmark',
        `case "${c.name}" ${side}`,
        `took no measurable time over ${n} calls: too fast for the clock`,
      );
    }
  }
}

async function timeCall(
  c: BenchmarkCase<unknown>,
  side: BenchSide,
  batch: number,
  clock: () => number,
): Promise<{ ms: number; out: unknown }> {
  const fn = c[side];
  let out: unknown;
  const t0 = clock();
  for (let b = 0; b < batch; b++) out = await fn();
  const ms = (clock() - t0) / batch;
  if (!(ms > 0)) {
    fail(
      'runBenchmark',
      `case "${c.name}" ${side}`,
      `took ${ms} ms: too fast for the clock; set case.batch > ${batch}`,
    );
  }
  return { ms, out };
}

async function caseResult(
  c: BenchmarkCase<unknown>,
  bt: number[],
  mt: number[],
  calls: Record<BenchSide, number>,
  lastBaseline: unknown,
  lastMethod: unknown,
  def: { confidence: number; resamples: number; seed: number },
): Promise<CaseResult> {
  const baseline = summarize(bt);
  const method = summarize(mt);
  const result: CaseResult = {
    name: c.name,
    baselineLabel: c.baselineLabel ?? 'baseline',
    methodLabel: c.methodLabel ?? 'method',
    unit: 'ms',
    baseline,
    method,
    samples: { baseline: bt, method: mt },
    ...(calls.baseline > 1 || calls.method > 1 ? { callsPerSample: { ...calls } } : {}),
    speedup: speedup(bt, mt, {
      paired: true,
      confidence: def.confidence,
      resamples: def.resamples,
      seed: def.seed,
    }),
  };
  if (c.work) {
    result.work = {
      ...c.work,
      baselinePerSecond: (c.work.amount * 1000) / baseline.median,
      methodPerSecond: (c.work.amount * 1000) / method.median,
    };
  }
  if (c.quality) {
    const q = await c.quality(lastBaseline, lastMethod, { baseline, method, speedup: result.speedup });
    const parsed = qualityCheckSchema.safeParse(q);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
      fail('runBenchmark', `case "${c.name}" quality()`, `must return { metric, value, pass } (${why})`);
    }
    result.quality = parsed.data;
  }
  return result;
}

async function resolveImages(definition: BenchmarkDefinition) {
  const raw = typeof definition.images === 'function' ? await definition.images() : (definition.images ?? []);
  const parsed = z.array(benchImageSchema).safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `images.${i.path.join('.')}: ${i.message}`).join('; ');
    fail('runBenchmark', 'definition.images', `is invalid (${why})`);
  }
  return parsed.data;
}

async function resolveSeries(definition: BenchmarkDefinition) {
  const raw = typeof definition.series === 'function' ? await definition.series() : (definition.series ?? []);
  const parsed = z.array(seriesSchema).safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `series.${i.path.join('.')}: ${i.message}`).join('; ');
    fail('runBenchmark', 'definition.series', `is invalid (${why})`);
  }
  const names = parsed.data.map((s) => s.name);
  if (new Set(names).size !== names.length) fail('runBenchmark', 'definition.series', 'names must be unique');
  return parsed.data;
}
