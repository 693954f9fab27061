import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { typicalAcceptance, typicalThreshold } from './typical-acceptance';

describe('typicalAcceptance (Medusa, not distribution-exact)', () => {
  it('threshold is min(ε, δ·exp(−H(p))), worked by hand', () => {
    // Uniform over 4: H = ln 4, δ·e^{-H} = 0.3 / 4 = 0.075 < ε = 0.09.
    expect(typicalThreshold([0.25, 0.25, 0.25, 0.25], 0.09, 0.3)).toBeCloseTo(0.075, 12);
    // A peaked p: H small, δ·e^{-H} > ε, so ε decides.
    const p = [0.97, 0.01, 0.01, 0.01];
    const h = -(0.97 * Math.log(0.97) + 3 * 0.01 * Math.log(0.01));
    expect(0.3 * Math.exp(-h)).toBeGreaterThan(0.09);
    expect(typicalThreshold(p, 0.09, 0.3)).toBe(0.09);
  });

  it('accepts the deepest fully accepted path and samples the next token from the typical set', () => {
    const uniform = [0.25, 0.25, 0.25, 0.25]; // threshold 0.075: every token passes
    const peaked = [0.05, 0.05, 0.85, 0.05]; // threshold 0.09: only token 2 passes
    // Tree: node 0 (tok 1) and node 1 (tok 3) under the root; node 2 (tok 0) under node 0;
    // node 3 (tok 2) under node 2; node 4 (tok 2) under node 1.
    const parents = [-1, -1, 0, 2, 1];
    const tokens = [1, 3, 0, 2, 2];
    // Rows: root uniform; after node 0 uniform; after node 1 peaked (node 4's token 2 passes);
    // after node 2 peaked (node 3's token 2 passes); after node 3 peaked (next = 2); after node 4 uniform.
    const probs = [uniform, uniform, peaked, peaked, peaked, uniform];
    const r = typicalAcceptance({ tokens, parents, probs, rng: rng(1) });
    expect(r.path).toEqual([0, 2, 3]); // depth 3 beats node 4's depth 2
    expect(r.tokens).toEqual([1, 0, 2, 2]); // the next token from the peaked row's typical set {2}
    // Reject node 2's token (0 under a peaked row after node 0): the path stops at node 4 (depth 2).
    const r2 = typicalAcceptance({
      tokens,
      parents,
      probs: [uniform, peaked, peaked, peaked, peaked, uniform],
      rng: rng(1),
    });
    expect(r2.path).toEqual([1, 4]);
    expect(r2.tokens.slice(0, 2)).toEqual([3, 2]);
  });

  it('samples the next token only among typical tokens, in proportion to p', () => {
    const p = [0.5, 0.3, 0.15, 0.05]; // threshold 0.09 (ε): token 3 is out
    const counts = [0, 0, 0, 0];
    const g = rng(7);
    for (let i = 0; i < 20000; i++)
      counts[typicalAcceptance({ tokens: [], parents: [], probs: [p], rng: g }).tokens[0]]++;
    expect(counts[3]).toBe(0);
    // Renormalised over {0, 1, 2}: 0.5 / 0.95 etc.; 4-sigma binomial bounds.
    for (const [j, q] of [
      [0, 0.5 / 0.95],
      [1, 0.3 / 0.95],
      [2, 0.15 / 0.95],
    ]) {
      const sd = Math.sqrt((20000 * q * (1 - q)) / 1);
      expect(Math.abs(counts[j] - 20000 * q)).toBeLessThan(4 * sd);
    }
  });
});
