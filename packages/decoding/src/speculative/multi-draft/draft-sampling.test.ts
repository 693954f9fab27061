/**
 * Draft sampling schemes against their exact distributions (chi-square at ALPHA = 1e-3).
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ALPHA, counts, fitPValue } from '../testing';
import { sampleDrafts, tokensByProbability } from './draft-sampling';

const q = Float64Array.from([0.4, 0.1, 0, 0.3, 0.2]);

describe('sampleDrafts', () => {
  it('without replacement: ordered pairs follow q(a) q(b) / (1 - q(a))', () => {
    const g = rng(81);
    const n = 30_000;
    const seen: number[] = [];
    for (let t = 0; t < n; t++) {
      const [a, b] = sampleDrafts(q, 2, g, 'without-replacement');
      expect(a).not.toBe(b);
      seen.push(a * 5 + b);
    }
    const exact = new Float64Array(25);
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 5; b++) if (a !== b) exact[a * 5 + b] = (q[a] * q[b]) / (1 - q[a]);
    expect(fitPValue(counts(seen, 25), exact)).toBeGreaterThan(ALPHA);
  });

  it('without replacement stops when the support is exhausted', () => {
    const d = sampleDrafts(q, 5, rng(82), 'without-replacement');
    expect([...d].sort()).toEqual([0, 1, 3, 4]);
  });

  it('greedy: the top k - 1 tokens, then one sampled from the rest of q', () => {
    expect(tokensByProbability(q)).toEqual([0, 3, 4, 1, 2]);
    const g = rng(83);
    const n = 20_000;
    const last: number[] = [];
    for (let t = 0; t < n; t++) {
      const d = sampleDrafts(q, 3, g, 'greedy');
      expect(d.slice(0, 2)).toEqual([0, 3]);
      last.push(d[2]);
    }
    expect(fitPValue(counts(last, 5), [0, 0.1 / 0.3, 0, 0, 0.2 / 0.3])).toBeGreaterThan(ALPHA);
  });

  it('iid: each draft ~ q', () => {
    const g = rng(84);
    const all: number[] = [];
    for (let t = 0; t < 10_000; t++) all.push(...sampleDrafts(q, 3, g));
    expect(fitPValue(counts(all, 5), q)).toBeGreaterThan(ALPHA);
  });
});
