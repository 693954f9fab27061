import { z } from 'zod';
import { checkFiniteArray, fail, parseOptions } from '../util/check.js';
import { createRng } from '../util/seededRng.js';
import { quantileSorted } from './quantile.js';

// Speed-up = median(baseline times) / median(method times), with a percentile bootstrap confidence
// interval (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13). Paired resampling
// draws whole repeat indices, keeping the baseline and method run of one interleaved round together so
// slow drift of the machine cancels; unpaired resampling draws each side independently.
// The ratio of medians is robust to the occasional slow outlier run that a ratio of means is not.

const speedupOptionsSchema = z
  .object({
    /** Resample (baseline[i], method[i]) pairs together. Needs equal lengths. Default: true if equal. */
    paired: z.boolean().optional(),
    resamples: z.number().int().min(100).max(1_000_000).default(2000),
    confidence: z.number().gt(0).lt(1).default(0.95),
    seed: z.number().int().default(0),
  })
  .strict();
export type SpeedupOptions = z.input<typeof speedupOptionsSchema>;

export interface SpeedupEstimate {
  /** median(baseline) / median(method): > 1 means the method is faster. */
  ratio: number;
  low: number;
  high: number;
  confidence: number;
  paired: boolean;
  resamples: number;
}

export function speedup(
  baselineTimes: ArrayLike<number>,
  methodTimes: ArrayLike<number>,
  options: SpeedupOptions = {},
): SpeedupEstimate {
  const where = 'speedup';
  const opts = parseOptions(speedupOptionsSchema, options, where);
  const a = checkFiniteArray(where, 'baselineTimes', baselineTimes, { minLength: 1 });
  const b = checkFiniteArray(where, 'methodTimes', methodTimes, { minLength: 1 });
  for (const [name, arr] of [
    ['baselineTimes', a],
    ['methodTimes', b],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      if (arr[i]! <= 0) fail(where, `${name}[${i}]`, `must be > 0 (got ${arr[i]})`);
    }
  }
  const paired = opts.paired ?? a.length === b.length;
  if (paired && a.length !== b.length) {
    fail(where, 'options.paired', `needs equal lengths (baseline ${a.length}, method ${b.length})`);
  }
  const ratio = medianOf(a) / medianOf(b);
  const rng = createRng(opts.seed);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const ratios = new Float64Array(opts.resamples);
  for (let r = 0; r < opts.resamples; r++) {
    if (paired) {
      for (let i = 0; i < a.length; i++) {
        const j = rng.int(a.length);
        ra[i] = a[j]!;
        rb[i] = b[j]!;
      }
    } else {
      for (let i = 0; i < a.length; i++) ra[i] = a[rng.int(a.length)]!;
      for (let i = 0; i < b.length; i++) rb[i] = b[rng.int(b.length)]!;
    }
    ratios[r] = medianInPlace(ra) / medianInPlace(rb);
  }
  ratios.sort();
  const alpha = (1 - opts.confidence) / 2;
  return {
    ratio,
    low: quantileSorted(ratios, alpha),
    high: quantileSorted(ratios, 1 - alpha),
    confidence: opts.confidence,
    paired,
    resamples: opts.resamples,
  };
}

function medianOf(values: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(values));
}

function medianInPlace(values: Float64Array): number {
  values.sort();
  return quantileSorted(values, 0.5);
}
