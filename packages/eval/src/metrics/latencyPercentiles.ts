import { checkFiniteArray } from '../util/check.js';
import { quantileSorted } from './quantile.js';

// Latency percentiles p50/p90/p99 (+ mean), as vLLM's benchmark_serving reports TTFT, TPOT and end-to-end
// latency (numpy.percentile, linear interpolation). Source: vllm-project/vllm benchmarks/benchmark_serving.py.

export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  n: number;
}

export function latencyPercentiles(latencies: ArrayLike<number>): LatencyPercentiles {
  checkFiniteArray('latencyPercentiles', 'latencies', latencies, { minLength: 1 });
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    mean: sum / sorted.length,
    n: sorted.length,
  };
}
