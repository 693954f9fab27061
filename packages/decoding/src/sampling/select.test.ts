import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { argmax, rowGenerators, sampleToken } from './select';

describe('argmax', () => {
  it('takes the first index on ties and ignores masked tokens', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([Number.NEGATIVE_INFINITY, -5, -7])).toBe(1);
  });

  it('throws on NaN, +Infinity, or nothing left', () => {
    expect(() => argmax([0, Number.NaN])).toThrow(/logit of token 1 is NaN/);
    expect(() => argmax([0, Number.POSITIVE_INFINITY])).toThrow(/is Infinity/);
    expect(() => argmax([Number.NEGATIVE_INFINITY])).toThrow(/every token is masked/);
  });
});

describe('rowGenerators and sampleToken', () => {
  it('one seed: row r draws from rng(seed).fold(r); a list: rng(seeds[r]).fold(0)', () => {
    const logits = [0.1, 0.5, -0.3, 1.2, 0];
    const [g0, g1] = rowGenerators(7, 2);
    const [h0, h1] = [rng(7).fold(0), rng(7).fold(1)];
    for (let i = 0; i < 20; i++) {
      expect(sampleToken(logits, g0)).toBe(h0.categorical(logits)[0]);
      expect(sampleToken(logits, g1)).toBe(h1.categorical(logits)[0]);
    }
    const [a, b] = rowGenerators([3, 7], 2);
    const [c] = rowGenerators([7], 1);
    const draws = (g: ReturnType<typeof rng>) => Array.from({ length: 20 }, () => sampleToken(logits, g));
    const fromB = draws(b);
    expect(fromB).toEqual(draws(c));
    expect(draws(a)).not.toEqual(fromB);
  });

  it('never samples a masked token', () => {
    const g = rng(1);
    for (let i = 0; i < 200; i++) expect(sampleToken([0, Number.NEGATIVE_INFINITY, 0], g)).not.toBe(1);
  });

  it('a seed list must match the batch', () => {
    expect(() => rowGenerators([1, 2], 3)).toThrow(/seed has 2 entries for a batch of 3 rows/);
  });
});
