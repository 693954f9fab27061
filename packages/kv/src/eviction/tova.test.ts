import { describe, expect, it } from 'vitest';
import { keysT, Q, scoreMismatch, softmax6, valuesT } from './testing';
import { tova } from './tova';

describe('tova', () => {
  it("scores the last query's attention averaged over heads", () => {
    // last query: head 0 asks [0, 1] (dots 0, 1, 4, 0, 1, 0), head 1 asks [1, 1] (dots 2, 1, 0, 14, 1, 1)
    const h0 = softmax6([0, 1, 4, 0, 1, 0]);
    const h1 = softmax6([2, 1, 0, 14, 1, 1]);
    const mean = h0.map((x, t) => (x + h1[t]) / 2);
    const s = tova().score({ layer: 0, keys: keysT(), values: valuesT(), queries: Q, numHeads: 2 });
    expect(scoreMismatch(s, [...mean, ...mean])).toBeNull();
    // one query alone (W = 1) is the same last query
    const last = new Float32Array([0, 1, 1, 1]);
    expect(
      scoreMismatch(
        tova().score({ layer: 0, keys: keysT(), values: valuesT(), queries: last, numHeads: 2 }),
        [...mean, ...mean],
      ),
    ).toBeNull();
  });
});
