import { describe, expect, it } from 'vitest';
import { LruQueue } from './lru-queue';

describe('LruQueue', () => {
  it('pushes at the tail, pops the head, removes from the middle', () => {
    const q = new LruQueue(6);
    for (const id of [3, 1, 5, 0]) q.pushTail(id);
    expect(q.toArray()).toEqual([3, 1, 5, 0]);
    q.remove(1);
    expect(q.toArray()).toEqual([3, 5, 0]);
    q.remove(3);
    q.remove(0);
    expect(q.toArray()).toEqual([5]);
    expect(q.popHead()).toBe(5);
    expect(q.popHead()).toBe(-1);
    q.pushTail(2);
    q.pushTail(4);
    expect([q.has(2), q.has(3), q.size, q.popHead()]).toEqual([true, false, 2, 2]);
  });

  it('refuses to queue a block twice or one out of range', () => {
    const q = new LruQueue(2);
    q.pushTail(1);
    expect(() => q.pushTail(1)).toThrow(/block 1 is already queued/);
    expect(() => q.pushTail(2)).toThrow(/out of range \[0, 2\)/);
    expect(() => q.remove(0)).toThrow(/block 0 is not queued/);
  });
});
