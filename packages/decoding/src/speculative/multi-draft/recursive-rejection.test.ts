/**
 * Recursive rejection sampling: the emitted token is exactly p (chi-square at ALPHA = 1e-3) for
 * i.i.d. and without-replacement drafts, k = 2 and 3; with one draft it is speculative sampling.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { binomialZ, Z_ALPHA } from '../testing';
import { sampleDrafts } from './draft-sampling';
import { checkExact, pairs } from './multi-draft-cases';
import { verifyRecursiveRejection } from './recursive-rejection';

describe('verifyRecursiveRejection', () => {
  const trials = 20_000;
  for (const scheme of ['iid', 'without-replacement'] as const) {
    it.each(pairs())(`${scheme} drafts, $name: output ~ p for k = 2, 3`, ({ p, q }) => {
      const g = rng(51);
      for (const k of [2, 3]) {
        checkExact((input) => verifyRecursiveRejection({ ...input, scheme }), p, q, k, scheme, trials, g);
      }
    });
  }

  it('one draft: accepted with probability sum min(p, q)', () => {
    const { p, q } = pairs()[0];
    const g = rng(52);
    let hits = 0;
    for (let t = 0; t < trials; t++) {
      const drafts = sampleDrafts(q, 1, g);
      hits += verifyRecursiveRejection({ target: p, draft: q, drafts, rng: g }).draftIndex === 0 ? 1 : 0;
    }
    const expected = p.reduce((s, x, j) => s + Math.min(x, q[j]), 0);
    expect(binomialZ(hits, trials, expected)).toBeLessThan(Z_ALPHA);
  });

  it('rejects bad input', () => {
    const p = [0.5, 0.5];
    expect(() => verifyRecursiveRejection({ target: p, draft: p, drafts: [], rng: rng(1) })).toThrow(/empty/);
    expect(() => verifyRecursiveRejection({ target: p, draft: [1, 0, 0], drafts: [0], rng: rng(1) })).toThrow(
      /'draft' has 3/,
    );
    expect(() =>
      verifyRecursiveRejection({ target: p, draft: p, drafts: [0], rng: rng(1), scheme: 'greedy' as 'iid' }),
    ).toThrow(/'scheme'/);
  });
});
