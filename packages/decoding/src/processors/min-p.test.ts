import { describe, expect, it } from 'vitest';
import { MinPProcessor } from './min-p';

const NEG = Number.NEGATIVE_INFINITY;
// Probabilities 0.5, 0.2, 0.2, 0.1.
const LOGITS = [0.5, 0.2, 0.2, 0.1].map(Math.log);
const kept = (m: number) => {
  const x = Float32Array.from(LOGITS);
  new MinPProcessor(m).process(x);
  return Array.from(x, (v, i) => (v === NEG ? -1 : i)).filter((i) => i >= 0);
};

describe('MinPProcessor', () => {
  it('keeps tokens with p >= minP * p_max', () => {
    expect(kept(0.3)).toEqual([0, 1, 2]); // threshold 0.15
    expect(kept(0.1)).toEqual([0, 1, 2, 3]); // threshold 0.05
    expect(kept(0.5)).toEqual([0]); // threshold 0.25
    expect(kept(1)).toEqual([0]);
    expect(kept(0)).toEqual([0, 1, 2, 3]);
  });

  it.each([-0.1, 1.01])('rejects minP = %s', (m) => {
    expect(() => new MinPProcessor(m)).toThrow(/'minP' must be a number in \[0, 1\]/);
  });
});
