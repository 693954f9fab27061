import { describe, expect, it } from 'vitest';
import { h2o } from './h2o';
import { A, keysT, Q, scoreMismatch, softmax6, valuesT } from './testing';

const sum = (a: number[], b: number[]) => a.map((x, i) => x + b[i]);

describe('h2o', () => {
  const input = { layer: 0, keys: keysT(), values: valuesT(), queries: Q, numHeads: 2 };

  it('scores accumulated attention and keeps the recent window', () => {
    const acc = [sum(A[0][0], A[0][1]), sum(A[1][0], A[1][1])];
    const I = Infinity;
    // default window: the 2 positions the queries come from
    expect(
      scoreMismatch(h2o().score(input), [...acc[0].slice(0, 4), I, I, ...acc[1].slice(0, 4), I, I]),
    ).toBeNull();
    expect(scoreMismatch(h2o({ window: 0 }).score(input), [...acc[0], ...acc[1]])).toBeNull();
    expect(
      scoreMismatch(h2o({ window: 1 }).score(input), [...acc[0].slice(0, 5), I, ...acc[1].slice(0, 5), I]),
    ).toBeNull();
  });

  it('averages over the query heads of a kv head (GQA)', () => {
    // query heads 0, 1 read kv head 0 and 2, 3 read kv head 1; heads 1 and 3 ask [0, 0]: uniform weights
    const q = new Float32Array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    const uniform = sum(softmax6([0, 0, 0, 0, 0]), softmax6([0, 0, 0, 0, 0, 0]));
    expect(uniform[0]).toBeCloseTo(1 / 5 + 1 / 6, 12);
    const s = h2o({ window: 0 }).score({ ...input, queries: q, numHeads: 4 });
    const kv0 = sum(A[0][0], A[0][1]).map((x, t) => (x + uniform[t]) / 2);
    const kv1 = sum(A[1][0], A[1][1]).map((x, t) => (x + uniform[t]) / 2);
    expect(scoreMismatch(s, [...kv0, ...kv1])).toBeNull();
  });

  it('needs queries of the right size', () => {
    expect(() => h2o().score({ layer: 0, keys: keysT(), values: valuesT() })).toThrow(/needs queries/);
    expect(() => h2o().score({ ...input, queries: Q.subarray(0, 7) })).toThrow(/queries hold 7 values/);
    expect(() => h2o().score({ ...input, numHeads: 3 })).toThrow(/not a multiple/);
    expect(() => h2o({ windw: 1 } as never)).toThrow(/"windw".*allowed: window/);
  });
});
