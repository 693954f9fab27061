import { describe, expect, it } from 'vitest';
import { goodput } from './goodput.js';

describe('goodput', () => {
  const reqs = [
    { ttftMs: 100, tpotMs: 20 },
    { ttftMs: 300, tpotMs: 20 }, // misses TTFT
    { ttftMs: 100, tpotMs: 60 }, // misses TPOT
    { ttftMs: 200, tpotMs: 50 }, // on the limits: counts
  ];

  it('counts requests meeting every objective per second', () => {
    const g = goodput(reqs, { ttftMs: 200, tpotMs: 50 }, 2);
    expect(g).toEqual({ goodput: 1, attainment: 0.5, good: 2, total: 4 });
    expect(goodput(reqs, { ttftMs: 1000 }, 4).goodput).toBe(1);
  });

  it('rejects empty objectives and missing fields', () => {
    expect(() => goodput(reqs, {}, 1)).toThrow(/at least one of ttftMs/);
    expect(() => goodput([{ ttftMs: 1 }], { e2eMs: 5 }, 1)).toThrow(/requests\[0\]\.e2eMs/);
    expect(() => goodput(reqs, { ttftMs: 1 }, 0)).toThrow(/durationSeconds must be > 0/);
  });
});
