import { describe, expect, it } from 'vitest';
import { latencyPercentiles } from './latencyPercentiles.js';

describe('latencyPercentiles', () => {
  it('gives p50/p90/p99 with linear interpolation', () => {
    const xs = Array.from({ length: 101 }, (_, i) => i); // 0..100
    const p = latencyPercentiles(xs);
    expect(p).toEqual({ p50: 50, p90: 90, p99: 99, mean: 50, n: 101 });
    expect(() => latencyPercentiles([])).toThrow(/latencies/);
  });
});
