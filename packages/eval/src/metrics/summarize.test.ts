import { describe, expect, it } from 'vitest';
import { summarize } from './summarize.js';

describe('summarize', () => {
  it('computes median, MAD and IQR by hand', () => {
    const s = summarize([1, 2, 3, 4, 100]);
    expect(s.median).toBe(3);
    // |x - 3| = 2, 1, 0, 1, 97 -> median 1
    expect(s.mad).toBe(1);
    expect(s.q1).toBe(2);
    expect(s.q3).toBe(4);
    expect(s.iqr).toBe(2);
    expect(s.mean).toBe(22);
    expect([s.min, s.max, s.n]).toEqual([1, 100, 5]);
  });
});
