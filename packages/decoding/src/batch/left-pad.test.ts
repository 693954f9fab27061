import { describe, expect, it } from 'vitest';
import { column, leftPad } from './left-pad';

describe('leftPad', () => {
  it('right-aligns each prompt and reports its padding', async () => {
    const { tokens, padding, width } = leftPad([[1, 2, 3], [4], [5, 6]], 9);
    expect(width).toBe(3);
    expect(padding).toEqual([0, 2, 1]);
    expect(tokens.shape).toEqual([3, 3]);
    expect(tokens.dtype).toBe('i32');
    expect(Array.from(await tokens.data())).toEqual([1, 2, 3, 9, 9, 4, 9, 5, 6]);
    tokens.dispose();
  });

  it('column makes a [rows, 1] i32 tensor', async () => {
    const t = column([7, 8]);
    expect(t.shape).toEqual([2, 1]);
    expect(Array.from(await t.data())).toEqual([7, 8]);
    t.dispose();
  });
});
