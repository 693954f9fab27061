import { z } from 'zod';
import { sampleSummarySchema } from '../metrics/summarize.js';

// The result file format: one JSON file per benchmark at bench-results/<package>/<bench>.json.
// Everything that reads results (report, compare, other tools) validates against this schema.

export const BENCH_SCHEMA_VERSION = 'hasten.bench/1';

const slug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'must be lower-case letters, digits, ".", "_" or "-" (used as a file name)',
  );

/** A number that may also be ±Infinity (e.g. the PSNR of identical outputs); JSON stores "Infinity". */
export const extendedNumber = z.preprocess(
  (v) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v),
  z.custom<number>((v) => typeof v === 'number' && !Number.isNaN(v), {
    message: 'must be a number (not NaN)',
  }),
);

export const environmentSchema = z.object({
  /** e.g. "node v20.19.0" or a browser user agent. */
  runtime: z.string(),
  /** e.g. "linux x64". */
  platform: z.string().nullable(),
  cpu: z.string().nullable(),
  cores: z.number().int().nullable(),
  memoryGiB: z.number().nullable(),
  /** Compute backend the caller used, e.g. "cpu", "webgpu", "cuda". */
  backend: z.string().nullable(),
  /** Adapter / device description, e.g. a GPU name. */
  adapter: z.string().nullable(),
  /** Package versions the caller passed in. */
  versions: z.record(z.string(), z.string()),
  gitCommit: z.string().nullable(),
  gitDirty: z.boolean().nullable(),
});
export type Environment = z.infer<typeof environmentSchema>;

export const qualityCheckSchema = z.object({
  /** What was compared, e.g. "identical tokens", "max abs error", "relative error". */
  metric: z.string().min(1),
  value: extendedNumber,
  pass: z.boolean(),
  /** The acceptance rule in words, e.g. "<= 1e-6". */
  threshold: z.string().optional(),
});
export type QualityCheck = z.infer<typeof qualityCheckSchema>;

export const speedupSchema = z.object({
  ratio: z.number().positive(),
  low: z.number().positive(),
  high: z.number().positive(),
  confidence: z.number().gt(0).lt(1),
  paired: z.boolean(),
  resamples: z.number().int().positive(),
});

export const caseResultSchema = z.object({
  name: z.string().min(1),
  baselineLabel: z.string(),
  methodLabel: z.string(),
  /** Timings are milliseconds per call. */
  unit: z.literal('ms'),
  baseline: sampleSummarySchema,
  method: sampleSummarySchema,
  samples: z.object({ baseline: z.array(z.number()), method: z.array(z.number()) }),
  /** Calls averaged in each timed sample (case.batch / case.sampleMs); absent when 1 for both sides. */
  callsPerSample: z.object({ baseline: z.number().int().min(1), method: z.number().int().min(1) }).optional(),
  speedup: speedupSchema,
  /** Work per call (e.g. 128 tokens) and the resulting rates at the median time. */
  work: z
    .object({
      amount: z.number().positive(),
      unit: z.string().min(1),
      baselinePerSecond: z.number(),
      methodPerSecond: z.number(),
    })
    .optional(),
  quality: qualityCheckSchema.optional(),
});
export type CaseResult = z.infer<typeof caseResultSchema>;

export const seriesPointSchema = z.object({
  x: z.number(),
  y: z.number(),
  /** Optional interval around y (CI or ± spread). */
  low: z.number().optional(),
  high: z.number().optional(),
});

export const seriesSchema = z.object({
  /** accuracy-vs-budget (test-time scaling) or quality-vs-steps (samplers, caches). */
  kind: z.enum(['accuracy-vs-budget', 'quality-vs-steps']),
  /** File-name-safe id, unique within the result. */
  name: slug,
  title: z.string().min(1),
  xLabel: z.string().min(1),
  yLabel: z.string().min(1),
  /** Default: log2 for accuracy-vs-budget spanning >= 8x, else linear. */
  xScale: z.enum(['linear', 'log']).optional(),
  yScale: z.enum(['linear', 'log']).optional(),
  lines: z.array(z.object({ label: z.string().min(1), points: z.array(seriesPointSchema).min(1) })).min(1),
});
export type Series = z.infer<typeof seriesSchema>;

/**
 * A picture a benchmark made (an image grid of samples, ...), shown in the report under its result.
 * `path` is relative to the repository root (e.g. "bench-results/diffusion/grids/unet-ddim-10.png"),
 * so the report links it from wherever the report is written.
 */
export const benchImageSchema = z.object({
  title: z.string().min(1),
  path: z
    .string()
    .regex(
      /^[A-Za-z0-9_][A-Za-z0-9_.,+=@-]*(\/[A-Za-z0-9_][A-Za-z0-9_.,+=@-]*)*\.(png|svg|jpg|jpeg|webp)$/,
      'must be a relative path inside the repository ending in .png, .svg, .jpg, .jpeg or .webp',
    )
    .refine((p) => !p.split('/').includes('..'), 'must not contain ".."'),
});
export type BenchImage = z.infer<typeof benchImageSchema>;

export const benchConfigSchema = z.object({
  warmup: z.number().int().min(0),
  repeats: z.number().int().min(1),
  interleave: z.enum(['ab', 'abba']),
  confidence: z.number().gt(0).lt(1),
  resamples: z.number().int().positive(),
  seed: z.number().int(),
});

export const benchResultSchema = z.object({
  schema: z.literal(BENCH_SCHEMA_VERSION),
  /** Short package name, e.g. "decoding". */
  package: slug,
  bench: slug,
  description: z.string().optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  config: benchConfigSchema,
  environment: environmentSchema,
  cases: z.array(caseResultSchema),
  series: z.array(seriesSchema),
  /** Pictures for the report (absent = none). */
  images: z.array(benchImageSchema).optional(),
});
export type BenchResult = z.infer<typeof benchResultSchema>;

/** Validates parsed JSON as a bench result; the error names the first bad fields. */
export function parseBenchResult(value: unknown, source = 'bench result'): BenchResult {
  const parsed = benchResultSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new Error(`${source}: not a valid ${BENCH_SCHEMA_VERSION} result: ${issues}`);
}

/** JSON text of a result; ±Infinity become "Infinity" strings, which the schema reads back. */
export function serializeBenchResult(result: BenchResult): string {
  const checked = parseBenchResult(result);
  return `${JSON.stringify(
    checked,
    (_k, v) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v),
    2,
  )}\n`;
}
