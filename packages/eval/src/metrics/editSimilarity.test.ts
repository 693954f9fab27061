import { describe, expect, it } from 'vitest';
import { editSimilarity, levenshtein, prefixMatch } from './editSimilarity.js';

describe('edit similarity', () => {
  it('Levenshtein distance by hand', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
  });

  it('similarity and prefix match', () => {
    expect(editSimilarity('kitten', 'sitting')).toBeCloseTo(1 - 3 / 7, 15);
    expect(editSimilarity('', '')).toBe(1);
    expect(prefixMatch('return x + 1', 'return x - 1')).toBe(9 / 12);
    expect(prefixMatch('anything', '')).toBe(1);
  });
});
