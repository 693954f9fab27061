/**
 * Greedy draft sampling and its verifier: the emitted token is exactly p (chi-square at
 * ALPHA = 1e-3); fixed drafts are q's top tokens; inconsistent drafts are refused.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { sampleDrafts } from './draft-sampling';
import { verifyGreedyDrafts } from './greedy-draft';
import { checkExact, pairs } from './multi-draft-cases';

describe('verifyGreedyDrafts', () => {
  it.each(pairs())('$name: output ~ p for k = 1, 2, 3, 4', ({ p, q }) => {
    const g = rng(73);
    for (const k of [1, 2, 3, 4]) checkExact(verifyGreedyDrafts, p, q, k, 'greedy', 20_000, g);
  });

  it('all drafts fixed when q has no mass outside the top k - 1: the token is simply ~ p', () => {
    const p = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
    const q = Float64Array.from([0.5, 0.5, 0, 0]);
    const g = rng(72);
    const drafts = sampleDrafts(q, 3, g, 'greedy');
    expect(drafts).toEqual([0, 1, 2]);
    checkExact(verifyGreedyDrafts, p, q, 3, 'greedy', 20_000, g);
  });

  it('refuses a last draft that repeats a fixed one', () => {
    const p = [0.5, 0.5];
    expect(() => verifyGreedyDrafts({ target: p, draft: p, drafts: [0, 0], rng: rng(1) })).toThrow(/repeats/);
  });
});
