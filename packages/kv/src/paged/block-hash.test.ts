import { describe, expect, it } from 'vitest';
import { blockKey, PAD_TOKEN, rootKey } from './block-hash';

describe('block keys', () => {
  it('chain over the parent and the token ids; a salt changes every key of the chain', () => {
    const a = blockKey(rootKey(undefined), [1, 2, 3, 4]);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(blockKey(rootKey(undefined), [1, 2, 3, 4])).toBe(a);
    expect(blockKey(rootKey(undefined), [1, 2, 4, 3])).not.toBe(a);
    expect(blockKey(rootKey(undefined), [1, 2, 3, PAD_TOKEN])).not.toBe(a);
    expect(blockKey(rootKey('tenant-a'), [1, 2, 3, 4])).not.toBe(a);
    expect(blockKey(rootKey('tenant-a'), [1, 2, 3, 4])).not.toBe(blockKey(rootKey('tenant-b'), [1, 2, 3, 4]));
    // the same block after different parents
    const b1 = blockKey(a, [5, 6, 7, 8]);
    const b2 = blockKey(blockKey(rootKey(undefined), [1, 2, 3, 5]), [5, 6, 7, 8]);
    expect(b1).not.toBe(b2);
    expect(rootKey(undefined)).not.toBe(rootKey('root'));
  });

  it('gives 20000 distinct blocks 20000 distinct keys', () => {
    const keys = new Set<string>();
    let parent = rootKey(undefined);
    for (let i = 0; i < 20000; i++) {
      const k = blockKey(parent, [i & 255, (i >> 8) & 255, 7, 7]);
      keys.add(k);
      if (i % 3 === 0) parent = k;
    }
    expect(keys.size).toBe(20000);
  });
});
