import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { keyNorm } from './key-norm';
import { K, keysT, scoreMismatch, valuesT } from './testing';

describe('keyNorm', () => {
  it('scores -||k||_2 per head and position', () => {
    const s = keyNorm().score({ layer: 0, keys: keysT(), values: valuesT() });
    // head 0: |[1,0]| = 1, |[0,1]| = 1, |[3,4]| = 5, 0, √2, 2; head 1: 2, 1, 0, |[6,8]| = 10, 1, 1
    expect(scoreMismatch(s, [-1, -1, -5, 0, -Math.SQRT2, -2, -2, -1, 0, -10, -1, -1])).toBeNull();
  });

  it('reads strided key views', () => {
    // keys stored [B, T, H, D], permuted to [B, H, T, D]: a non-contiguous view
    const bthd = tensor([K[0][0].map((row, t) => [row, K[0][1][t]])]);
    const s = keyNorm().score({ layer: 0, keys: bthd.permute([0, 2, 1, 3]), values: valuesT() });
    expect(scoreMismatch(s, [-1, -1, -5, 0, -Math.SQRT2, -2, -2, -1, 0, -10, -1, -1])).toBeNull();
  });
});
