import { describe, expect, it } from 'vitest';
import { majorityVote, weightedVote } from './vote.js';
import { majorityVoteAccuracy, weightedVoteAccuracy } from './voteAccuracy.js';

describe('voting', () => {
  it('majority vote picks the most frequent answer, first seen on ties', () => {
    expect(majorityVote(['3', '4', '3', '5'])).toEqual({ answer: '3', support: 2 });
    expect(majorityVote(['a', 'b']).answer).toBe('a');
    expect(majorityVote([' 7', '7 ', '8'], (s) => s.trim())).toEqual({ answer: '7', support: 2 });
  });

  it('weighted vote sums the scores per answer', () => {
    // '4' has fewer votes but more total reward: 0.9 + 0.8 > 0.3 + 0.3 + 0.4
    expect(weightedVote(['3', '4', '3', '4', '3'], [0.3, 0.9, 0.3, 0.8, 0.4]).answer).toBe('4');
    expect(() => weightedVote(['a'], [Number.NaN])).toThrow(/weights\[0\]/);
    expect(() => weightedVote(['a', 'b'], [1])).toThrow(/weights must have length 2/);
  });

  it('accuracies over problems', () => {
    const problems = [
      { answers: ['1', '1', '2'], weights: [0.1, 0.1, 0.9], reference: '1' },
      { answers: ['5', '6', '6'], weights: [0.9, 0.2, 0.2], reference: '5' },
    ];
    expect(majorityVoteAccuracy(problems)).toBe(0.5);
    expect(weightedVoteAccuracy(problems)).toBe(0.5);
    expect(() => majorityVote([])).toThrow(/answers must be a non-empty array/);
  });
});
