import { describe, expect, it } from 'vitest';
import { SuppressTokensProcessor } from './suppress-tokens';

describe('SuppressTokensProcessor', () => {
  it('masks the listed tokens', () => {
    const x = Float32Array.from([0, 1, 2]);
    new SuppressTokensProcessor([0, 2]).process(x);
    expect(Array.from(x)).toEqual([Number.NEGATIVE_INFINITY, 1, Number.NEGATIVE_INFINITY]);
  });

  it('rejects a negative id', () => {
    expect(() => new SuppressTokensProcessor([-1])).toThrow(/'suppressTokens' must be token ids/);
  });
});
