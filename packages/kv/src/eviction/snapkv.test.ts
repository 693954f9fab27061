import { describe, expect, it } from 'vitest';
import { snapKV } from './snapkv';
import { A, keysT, Q, scoreMismatch, valuesT } from './testing';

describe('snapKV', () => {
  const input = { layer: 0, keys: keysT(), values: valuesT(), queries: Q, numHeads: 2 };
  const I = Infinity;
  // votes: the window's mean weight on positions 0..3 (before the window at 4, 5)
  const vote = A.map((h) => [0, 1, 2, 3].map((t) => (h[0][t] + h[1][t]) / 2));

  it('max-pools the observation window votes (kernel 5) and keeps the window', () => {
    const pooled = vote.map((v) => [
      Math.max(v[0], v[1], v[2]),
      Math.max(v[0], v[1], v[2], v[3]),
      Math.max(v[0], v[1], v[2], v[3]),
      Math.max(v[1], v[2], v[3]),
    ]);
    expect(scoreMismatch(snapKV().score(input), [...pooled[0], I, I, ...pooled[1], I, I])).toBeNull();
  });

  it('kernel 1 is the plain vote, kernel 3 pools neighbours', () => {
    expect(
      scoreMismatch(snapKV({ kernelSize: 1 }).score(input), [...vote[0], I, I, ...vote[1], I, I]),
    ).toBeNull();
    const p3 = vote.map((v) => [
      Math.max(v[0], v[1]),
      Math.max(v[0], v[1], v[2]),
      Math.max(v[1], v[2], v[3]),
      Math.max(v[2], v[3]),
    ]);
    expect(
      scoreMismatch(snapKV({ kernelSize: 3 }).score(input), [...p3[0], I, I, ...p3[1], I, I]),
    ).toBeNull();
  });

  it('rejects an even kernel and unknown options', () => {
    expect(() => snapKV({ kernelSize: 4 })).toThrow(/odd/);
    expect(() => snapKV({ kernel: 5 } as never)).toThrow(/"kernel".*allowed: kernelSize/);
  });
});
