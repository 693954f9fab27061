import { z } from 'zod';
import { checkFiniteArray } from '../util/check.js';
import { quantileSorted } from './quantile.js';

// Robust summary of repeated timings: median with MAD and IQR as the spread (Rousseeuw & Croux 1993;
// benchmark tools such as hyperfine and criterion report median and MAD because timing noise is
// one-sided and heavy-tailed, so mean ± sd overstates it).

export const sampleSummarySchema = z.object({
  n: z.number().int().min(1),
  median: z.number(),
  /** Median absolute deviation from the median (raw, not scaled by 1.4826). */
  mad: z.number().min(0),
  q1: z.number(),
  q3: z.number(),
  /** Interquartile range q3 - q1. */
  iqr: z.number().min(0),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
});
export type SampleSummary = z.infer<typeof sampleSummarySchema>;

export function summarize(values: ArrayLike<number>): SampleSummary {
  checkFiniteArray('summarize', 'values', values, { minLength: 1 });
  const sorted = Float64Array.from(values).sort();
  const med = quantileSorted(sorted, 0.5);
  const dev = sorted.map((v) => Math.abs(v - med)).sort();
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    median: med,
    mad: quantileSorted(dev, 0.5),
    q1,
    q3,
    iqr: q3 - q1,
    mean: sum / sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}
