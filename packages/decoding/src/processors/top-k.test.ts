import { describe, expect, it } from 'vitest';
import { TopKProcessor } from './top-k';

const NEG = Number.NEGATIVE_INFINITY;
const run = (k: number, logits: number[]) => {
  const x = Float32Array.from(logits);
  new TopKProcessor(k).process(x);
  return Array.from(x);
};

describe('TopKProcessor', () => {
  it('keeps the k largest logits', () => {
    expect(run(2, [1, 5, 3, 4, 2])).toEqual([NEG, 5, NEG, 4, NEG]);
    expect(run(3, [1, 5, 3, 4, 2])).toEqual([NEG, 5, 3, 4, NEG]);
  });

  it('keeps tokens tied with the k-th largest (HF: logit >= k-th value)', () => {
    expect(run(1, [3, 1, 3])).toEqual([3, NEG, 3]);
    expect(run(2, [1, 3, 2, 2])).toEqual([NEG, 3, 2, 2]);
  });

  it('k >= vocabulary is a no-op; masked tokens stay masked', () => {
    expect(run(5, [1, NEG, 2])).toEqual([1, NEG, 2]);
    expect(run(2, [1, NEG, NEG])).toEqual([1, NEG, NEG]);
  });

  it.each([0, 1.5, -2])('rejects k = %s', (k) => {
    expect(() => new TopKProcessor(k)).toThrow(/'topK' must be an integer >= 1/);
  });
});
