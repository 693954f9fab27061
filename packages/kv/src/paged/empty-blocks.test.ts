import { describe, expect, it } from 'vitest';
import { EmptyBlocks } from './empty-blocks';

describe('EmptyBlocks', () => {
  it('hands out the lowest id first, whatever the push order', () => {
    const e = new EmptyBlocks(64);
    const ids = [17, 3, 40, 0, 63, 8, 9, 21, 2, 33];
    for (const id of ids) e.push(id);
    expect(e.toArray()).toEqual([...ids].sort((a, b) => a - b));
    const out: number[] = [];
    for (let id = e.pop(); id >= 0; id = e.pop()) {
      out.push(id);
      if (id === 9) e.push(1); // pushed while popping: next
    }
    expect(out).toEqual([0, 2, 3, 8, 9, 1, 17, 21, 33, 40, 63]);
    expect(e.size).toBe(0);
    e.push(5);
    expect(() => e.push(5)).toThrow(/block 5 is already empty/);
    expect(() => e.push(64)).toThrow(/out of range \[0, 64\)/);
  });
});
