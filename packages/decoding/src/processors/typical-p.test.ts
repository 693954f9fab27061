import { describe, expect, it } from 'vitest';
import { TypicalPProcessor } from './typical-p';

const NEG = Number.NEGATIVE_INFINITY;
// p = 1/2, 1/4, 1/8, 1/8: entropy H = 1.75 ln 2; |-log p - H| = 0.75, 0.25, 1.25, 1.25 (x ln 2), so the
// ranking is ids 1, 0, then 2 and 3 (tied), with cumulative mass 0.25, 0.75, 0.875, 1.
const LOGITS = [0.5, 0.25, 0.125, 0.125].map(Math.log);
const kept = (mass: number) => {
  const x = Float32Array.from(LOGITS);
  new TypicalPProcessor(mass).process(x);
  return Array.from(x, (v, i) => (v === NEG ? -1 : i)).filter((i) => i >= 0);
};

describe('TypicalPProcessor (HF TypicalLogitsWarper rule)', () => {
  it('keeps the most typical tokens up to the mass, ties at the threshold included', () => {
    expect(kept(0.5)).toEqual([0, 1]); // 0.25 < 0.5, then id 0 reaches 0.75
    expect(kept(0.8)).toEqual([0, 1, 2, 3]); // the threshold is ids 2/3's distance: both kept
  });

  it('can drop the most probable token: mass 0.2 keeps only the most typical one (id 1)', () => {
    expect(kept(0.2)).toEqual([1]);
  });

  it('mass 1 is a no-op', () => {
    expect(kept(1)).toEqual([0, 1, 2, 3]);
  });

  it.each([0, 1.2])('rejects typicalP = %s', (m) => {
    expect(() => new TypicalPProcessor(m)).toThrow(/'typicalP' must be a number in \(0, 1\]/);
  });
});
