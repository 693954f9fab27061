import { describe, expect, it } from 'vitest';
import { MinNewTokensProcessor } from './min-new-tokens';

describe('MinNewTokensProcessor', () => {
  it('masks the stop tokens until minNewTokens tokens are generated', () => {
    const p = new MinNewTokensProcessor(2, [0, 3]);
    const x = Float32Array.from([1, 1, 1, 1]);
    p.process(x, { tokens: [9, 9, 5], promptLength: 2, row: 0 }); // 1 generated
    expect(Array.from(x)).toEqual([Number.NEGATIVE_INFINITY, 1, 1, Number.NEGATIVE_INFINITY]);
    const y = Float32Array.from([1, 1, 1, 1]);
    p.process(y, { tokens: [9, 9, 5, 6], promptLength: 2, row: 0 }); // 2 generated
    expect(Array.from(y)).toEqual([1, 1, 1, 1]);
  });
});
