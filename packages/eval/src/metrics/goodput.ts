import { z } from 'zod';
import { checkPositive, fail, isArray, parseOptions } from '../util/check.js';

// Goodput: completed requests per second that meet every latency objective (SLO). DistServe
// (Zhong et al., arXiv 2401.09670) and vLLM benchmark_serving `--goodput ttft:X tpot:Y e2el:Z`.
// Throughput counts every request; goodput counts only the ones a user would call fast enough.

export interface RequestLatency {
  /** Time to first token, ms. */
  ttftMs: number;
  /** Time per output token, ms (omit for single-token requests). */
  tpotMs?: number;
  /** End-to-end latency, ms. */
  e2eMs?: number;
}

const sloSchema = z
  .object({
    ttftMs: z.number().positive().optional(),
    tpotMs: z.number().positive().optional(),
    e2eMs: z.number().positive().optional(),
  })
  .strict()
  .refine((s) => s.ttftMs !== undefined || s.tpotMs !== undefined || s.e2eMs !== undefined, {
    message: 'give at least one of ttftMs, tpotMs, e2eMs',
  });
export type LatencyObjective = z.infer<typeof sloSchema>;

export interface GoodputResult {
  /** Requests meeting all objectives per second. */
  goodput: number;
  /** Fraction of requests meeting all objectives (SLO attainment). */
  attainment: number;
  good: number;
  total: number;
}

export function goodput(
  requests: readonly RequestLatency[],
  objective: LatencyObjective,
  durationSeconds: number,
): GoodputResult {
  const slo = parseOptions(sloSchema, objective, 'goodput');
  checkPositive('goodput', 'durationSeconds', durationSeconds);
  if (!isArray(requests) || requests.length === 0) fail('goodput', 'requests', 'must be a non-empty array');
  let good = 0;
  requests.forEach((r, i) => {
    const ok = (key: keyof RequestLatency, limit: number | undefined): boolean => {
      if (limit === undefined) return true;
      const v = r[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        fail('goodput', `requests[${i}].${key}`, `must be a finite number when the objective sets ${key}`);
      }
      return v <= limit;
    };
    if (ok('ttftMs', slo.ttftMs) && ok('tpotMs', slo.tpotMs) && ok('e2eMs', slo.e2eMs)) good++;
  });
  return {
    goodput: good / durationSeconds,
    attainment: good / requests.length,
    good,
    total: requests.length,
  };
}
