import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { randomScores } from './random';
import { keysT, scoreMismatch, valuesT } from './testing';

describe('randomScores', () => {
  it('draws uniform scores from the seeded Philox stream, one stream per layer', () => {
    const p = randomScores({ seed: 7 });
    const s0 = p.score({ layer: 0, keys: keysT(), values: valuesT() });
    const s1 = p.score({ layer: 1, keys: keysT(), values: valuesT() });
    expect(scoreMismatch(s0, Array.from(rng(7).fold(0).uniform(12)))).toBeNull();
    expect(scoreMismatch(s1, Array.from(rng(7).fold(1).uniform(12)))).toBeNull();
    expect(Array.from(s0)).not.toEqual(Array.from(s1));
    // reproducible
    expect(
      scoreMismatch(
        randomScores({ seed: 7 }).score({ layer: 0, keys: keysT(), values: valuesT() }),
        Array.from(s0),
      ),
    ).toBeNull();
    for (const x of s0) expect(x >= 0 && x < 1).toBe(true);
  });

  it('requires a seed and rejects unknown options', () => {
    expect(() => randomScores({} as never)).toThrow(/seed/);
    expect(() => randomScores({ seed: 1, sed: 2 } as never)).toThrow(/"sed".*allowed: seed/);
  });
});
