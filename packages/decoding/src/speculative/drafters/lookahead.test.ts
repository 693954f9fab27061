import { describe, expect, it } from 'vitest';
import { SyntheticLM } from '../../testing';
import { speculativeDecode } from '../speculative-decode';
import { LookaheadDrafter } from './lookahead';

describe('LookaheadDrafter (Jacobi lookahead + n-gram pool)', () => {
  it('lays out the window as the paper does: N - 1 levels of W guesses with column masks', () => {
    const d = new LookaheadDrafter({ window: 3, ngram: 4, guesses: 2 });
    const draft = d.propose([5, 6, 7, 8, 9], 8);
    expect(draft.tokens).toEqual([]); // empty pool: nothing to verify yet
    const x = draft.extra!;
    // Level 0 columns 1..2, then levels 1 and 2 columns 0..2: 2 + 3 + 3 tokens.
    expect(x.tokens.length).toBe(8);
    expect(x.positions).toEqual([1, 2, 1, 2, 3, 2, 3, 4]);
    // Level-0 column 2 sees level-0 columns 1..2; level-2 column 1 sees level-0 column 1 and
    // levels 1, 2 of column 1 (extra indices 0, 3, 6).
    expect(x.attends[1]).toEqual([0, 1]);
    expect(x.attends[6]).toEqual([0, 3, 6]);
    expect(x.attends[2]).toEqual([2]); // level 1, column 0: t and itself
  });

  it('learns the n-grams of a deterministic model and then accepts several tokens per round', async () => {
    // next token = (3 * last + 1) mod 11: greedy decoding is a fixed cycle the window discovers.
    const V = 11;
    const model = new SyntheticLM(V, (ctx) => {
      const want = (3 * ctx[ctx.length - 1] + 1) % V;
      return Array.from({ length: V }, (_, j) => (j === want ? 5 : 0));
    });
    const r = await speculativeDecode(model, {
      prompt: [2],
      maxNewTokens: 60,
      stopTokens: [],
      drafter: new LookaheadDrafter({ window: 4, ngram: 4, guesses: 4 }),
      numDraftTokens: 12,
      fallback: false,
    });
    const expected: number[] = [];
    let last = 2;
    for (let i = 0; i < 60; i++) {
      last = (3 * last + 1) % V;
      expected.push(last);
    }
    expect(r.tokens).toEqual(expected);
    // A model with a short cycle is guessed right almost always once the pool holds it.
    expect(r.metrics.meanAcceptanceLength).toBeGreaterThan(2.5);
    expect(r.stats.targetForwards).toBeLessThan(30);
  });
});
