import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { keyformer } from './keyformer';
import { DOTS, keysT, Q, valuesT } from './testing';

const input = { layer: 0, keys: keysT(), values: valuesT(), queries: Q, numHeads: 2 };

describe('keyformer', () => {
  it('accumulates softmax((q·k/√d + Gumbel)/τ) over the queries, τ from 1 to 2, recent window kept', () => {
    const s = keyformer({ seed: 3, window: 1 }).score(input);
    // The same Gumbel draws, by hand: one uniform per (head, query, position), positions 0..5.
    const u = rng(3)
      .fold(0)
      .uniform(2 * 2 * 6);
    const want: number[] = [];
    for (let h = 0; h < 2; h++) {
      const acc = [0, 0, 0, 0, 0, 0];
      for (let w = 0; w < 2; w++) {
        const tau = 1 + w; // two queries: τ = 1 then 2
        const e = DOTS[h][w].map((d, t) =>
          Math.exp((d / Math.SQRT2 - Math.log(-Math.log(u[(h * 2 + w) * 6 + t]))) / tau),
        );
        const z = e.reduce((a, b) => a + b, 0);
        e.forEach((x, t) => {
          acc[t] += x / z;
        });
      }
      acc[5] = Infinity; // window 1
      want.push(...acc);
    }
    for (let i = 0; i < 12; i++) {
      if (want[i] === Infinity) expect(s[i]).toBe(Infinity);
      else expect(s[i]).toBeCloseTo(want[i], 12);
    }
  });

  it('is reproducible per seed and layer, and differs across seeds', () => {
    const a = keyformer({ seed: 1, window: 0 }).score(input);
    expect(keyformer({ seed: 1, window: 0 }).score(input)).toEqual(a);
    expect(keyformer({ seed: 2, window: 0 }).score(input)).not.toEqual(a);
    expect(keyformer({ seed: 1, window: 0 }).score({ ...input, layer: 1 })).not.toEqual(a);
    // Each query's weights sum to 1 over the positions it sees: two queries per head.
    const perHead = [0, 1].map((h) => Array.from(a.subarray(h * 6, h * 6 + 6)).reduce((x, y) => x + y, 0));
    for (const total of perHead) expect(total).toBeCloseTo(2, 12);
  });

  it('rejects bad input with the field named', () => {
    expect(() => keyformer().score({ layer: 0, keys: keysT(), values: valuesT() })).toThrow(/needs queries/);
    expect(() => keyformer({ tau: 1 } as never)).toThrow(/"tau".*allowed: seed, tauInit, tauEnd, window/);
    expect(() => keyformer({ tauEnd: 0 })).toThrow(/tauEnd/);
  });
});
