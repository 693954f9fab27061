/**
 * @file Shared cases for the multi-draft tests (not exported): small target/draft pairs with the
 * awkward supports, and a checker that a verifier's output is exactly p over many trials.
 */
import { type Philox, rng } from '@hasten/core-tensor';
import { expect } from 'vitest';
import { ALPHA, counts, fitPValue, randomDist, topK } from '../testing';
import { type DraftScheme, sampleDrafts } from './draft-sampling';
import type { MultiDraftInput, MultiDraftResult } from './input';

export function pairs() {
  const g = rng(4242);
  return [
    { name: 'random p, q (V=6)', p: randomDist(g, 6), q: randomDist(g, 6) },
    { name: 'q zero where p is not (V=6)', p: randomDist(g, 6), q: randomDist(g, 6, [1, 2]) },
    { name: 'p zero where q is not (V=7)', p: randomDist(g, 7, [0, 5]), q: randomDist(g, 7) },
    {
      name: 'top-k filtered p (3) and q (4), V=8',
      p: topK(randomDist(g, 8), 3),
      q: topK(randomDist(g, 8), 4),
    },
    { name: 'peaked q (V=5)', p: randomDist(g, 5), q: Float64Array.from([0.85, 0.05, 0.05, 0.05, 0]) },
  ];
}

/** Runs `verifier` on `trials` fresh draft sets; asserts the output ~ p; returns the acceptance rate. */
export function checkExact(
  verifier: (input: MultiDraftInput) => MultiDraftResult,
  p: Float64Array,
  q: Float64Array,
  k: number,
  scheme: DraftScheme,
  trials: number,
  gen: Philox,
): number {
  const out: number[] = [];
  let accepted = 0;
  for (let t = 0; t < trials; t++) {
    const drafts = sampleDrafts(q, k, gen, scheme);
    const r = verifier({ target: p, draft: q, drafts, rng: gen });
    // Plain checks in the loop (a vitest expect per trial would dominate the run time).
    const consistent = r.draftIndex >= 0 ? drafts[r.draftIndex] === r.token : !drafts.includes(r.token);
    if (!consistent)
      throw new Error(`draftIndex ${r.draftIndex} disagrees with token ${r.token} for drafts ${drafts}`);
    if (r.draftIndex >= 0) accepted++;
    out.push(r.token);
  }
  expect(fitPValue(counts(out, p.length), p)).toBeGreaterThan(ALPHA);
  return accepted / trials;
}
