import { describe, expect, it } from 'vitest';
import { TopPProcessor } from './top-p';

const NEG = Number.NEGATIVE_INFINITY;
// Probabilities 0.2, 0.5, 0.1, 0.2 (ids 0..3).
const LOGITS = [0.2, 0.5, 0.1, 0.2].map(Math.log);
const kept = (p: number) => {
  const x = Float32Array.from(LOGITS);
  new TopPProcessor(p).process(x);
  return Array.from(x, (v, i) => (v === NEG ? -1 : i)).filter((i) => i >= 0);
};

describe('TopPProcessor', () => {
  it('keeps the smallest most-probable set whose mass reaches p', () => {
    expect(kept(0.3)).toEqual([1]); // 0.5
    expect(kept(0.6)).toEqual([0, 1]); // 0.5 + 0.2 (the tie goes to the lower id)
    expect(kept(0.8)).toEqual([0, 1, 3]); // 0.9
    expect(kept(0.95)).toEqual([0, 1, 2, 3]);
  });

  it('always keeps at least one token, and p = 1 keeps all', () => {
    expect(kept(1e-9)).toEqual([1]);
    expect(kept(1)).toEqual([0, 1, 2, 3]);
  });

  it('leaves the kept logits unchanged', () => {
    const x = Float32Array.from(LOGITS);
    new TopPProcessor(0.6).process(x);
    expect(x[0]).toBe(Math.fround(LOGITS[0]));
    expect(x[1]).toBe(Math.fround(LOGITS[1]));
  });

  it.each([0, -0.1, 1.5])('rejects p = %s', (p) => {
    expect(() => new TopPProcessor(p)).toThrow(/'topP' must be a number in \(0, 1\]/);
  });
});
