import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { runStrategy } from '../strategy';
import { scriptedTree } from '../testing/toys';
import { diffusionTreeSampling, diffusionTreeSearch } from './diffusion-tree-sampling';

// A depth-2 binary tree: from any prefix the proposer returns prefix + 'a', then prefix + 'b'.
const REWARD: Record<string, number> = { aa: 0.1, ab: 0.9, ba: 0.3, bb: 0.2 };
const tree = () => scriptedTree({ '': 'ab', a: 'ab', b: 'ab' }, 2);
const reward = (s: string) => REWARD[s];

describe('diffusion tree sampling', () => {
  it('backs up soft values (1/λ) log mean exp(λ v) over the children, by hand (λ = 2, all 6 nodes)', async () => {
    const trace = await runStrategy(
      diffusionTreeSampling({ proposer: tree(), scorer: reward, budget: 6, maxChildren: 2, lambda: 2 }),
    );
    const node = (s: string) => trace.candidates.find((c) => c.state === s)!;
    expect(trace.spent).toBe(6);
    const soft = (xs: number[]) => Math.log(xs.reduce((a, x) => a + Math.exp(2 * x), 0) / xs.length) / 2;
    const va = soft([0.1, 0.9]);
    const vb = soft([0.3, 0.2]);
    expect((node('a').logWeight as number) / 2).toBeCloseTo(va, 12);
    expect((node('b').logWeight as number) / 2).toBeCloseTo(vb, 12);
    expect((node('').logWeight as number) / 2).toBeCloseTo(soft([va, vb]), 12);
    expect(
      trace.candidates
        .filter((c) => c.score !== undefined)
        .map((c) => c.state)
        .sort(),
    ).toEqual(['aa', 'ab', 'ba', 'bb']);
  });

  it('DTS★ returns the best leaf', async () => {
    const trace = await runStrategy(
      diffusionTreeSearch({ proposer: tree(), scorer: reward, budget: 6, maxChildren: 2 }),
    );
    expect(trace.answer).toBe('ab');
    expect(trace.strategy).toBe('diffusion-tree-search');
  });

  it('DTS samples leaves ∝ p(x0)·exp(λ r(x0)) once the tree is built (uniform p here; chi-square over 800 seeds)', async () => {
    const counts: Record<string, number> = { aa: 0, ab: 0, ba: 0, bb: 0 };
    for (let seed = 0; seed < 800; seed++) {
      const trace = await runStrategy(
        diffusionTreeSampling({ proposer: tree(), scorer: reward, budget: 6, maxChildren: 2, lambda: 2 }),
        { seed },
      );
      counts[trace.answer as string]++;
    }
    const leaves = ['aa', 'ab', 'ba', 'bb'];
    const z = leaves.reduce((s, l) => s + Math.exp(2 * REWARD[l]), 0);
    const expected = leaves.map((l) => (800 * Math.exp(2 * REWARD[l])) / z);
    expect(
      chiSquareTest(
        leaves.map((l) => counts[l]),
        expected,
      ).p,
    ).toBeGreaterThan(1e-3);
    expect(
      chiSquareTest(
        leaves.map((l) => counts[l]),
        [200, 200, 200, 200],
      ).p,
    ).toBeLessThan(1e-3);
  });

  it('never spends more than the budget: an unfinished rollout is abandoned', async () => {
    const trace = await runStrategy(
      diffusionTreeSampling({ proposer: tree(), scorer: reward, budget: 5, maxChildren: 2 }),
    );
    expect(trace.spent).toBe(5);
    expect(trace.candidates.filter((c) => c.score !== undefined)).toHaveLength(3);
  });
});
