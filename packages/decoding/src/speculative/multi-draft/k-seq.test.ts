/**
 * SpecTr K-SEQ: the emitted token is exactly p (chi-square at ALPHA = 1e-3) for i.i.d. drafts, and
 * the division factor rho is the smallest that keeps the residual a distribution.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { randomDist } from '../testing';
import { kSeqRho, verifyKSeq } from './k-seq';
import { checkExact, pairs } from './multi-draft-cases';

describe('verifyKSeq', () => {
  it.each(pairs())('$name: output ~ p for k = 2, 3, 4', ({ p, q }) => {
    const g = rng(61);
    for (const k of [2, 3, 4]) checkExact(verifyKSeq, p, q, k, 'iid', 20_000, g);
  });

  it('rho: 1 when p = q; otherwise in [1, k] with 1 - (1 - beta)^k = rho beta at the optimum', () => {
    const g = rng(62);
    const p = randomDist(g, 6);
    expect(kSeqRho(p, p, 3)).toBe(1);
    for (let t = 0; t < 20; t++) {
      const a = randomDist(g, 6);
      const b = randomDist(g, 6);
      for (const k of [2, 3, 5]) {
        const rho = kSeqRho(a, b, k);
        expect(rho).toBeGreaterThanOrEqual(1);
        expect(rho).toBeLessThanOrEqual(k);
        const beta = (r: number) => a.reduce((s, x, j) => s + Math.min(b[j], x / r), 0);
        const gap = (r: number) => r * beta(r) - (1 - (1 - beta(r)) ** k);
        expect(gap(rho)).toBeGreaterThanOrEqual(-1e-11);
        if (rho > 1) expect(gap(rho * (1 - 1e-9))).toBeLessThan(1e-9);
      }
    }
  });
});
