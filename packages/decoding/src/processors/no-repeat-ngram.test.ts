import { describe, expect, it } from 'vitest';
import { NoRepeatNGramProcessor } from './no-repeat-ngram';

const banned = (n: number, tokens: number[], V = 6) => {
  const x = new Float32Array(V);
  new NoRepeatNGramProcessor(n).process(x, { tokens, promptLength: 0, row: 0 });
  return Array.from(x, (v, i) => (v === Number.NEGATIVE_INFINITY ? i : -1)).filter((i) => i >= 0);
};

describe('NoRepeatNGramProcessor (HF rule)', () => {
  it('bans the token that would complete an n-gram already in the context', () => {
    expect(banned(2, [1, 2, 3, 1])).toEqual([2]); // (1, 2) seen: after 1, ban 2
    expect(banned(2, [1, 2, 1, 4, 1])).toEqual([2, 4]);
    expect(banned(3, [1, 2, 3, 1, 2])).toEqual([3]); // (1, 2, 3) seen
    expect(banned(3, [1, 2, 3, 2, 1])).toEqual([]); // (2, 1) never followed by anything yet
  });

  it('n = 1 bans every token seen; a context shorter than n - 1 bans nothing', () => {
    expect(banned(1, [4, 0, 4])).toEqual([0, 4]);
    expect(banned(3, [1])).toEqual([]);
  });

  it('rejects n = 0', () => {
    expect(() => new NoRepeatNGramProcessor(0)).toThrow(/'noRepeatNgramSize' must be an integer >= 1/);
  });
});
