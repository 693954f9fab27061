import { describe, expect, it } from 'vitest';
import { bitsPerByte, utf8Bytes } from './bitsPerByte.js';
import { argmaxTokens, nextTokenAccuracy } from './nextTokenAccuracy.js';
import { perplexity } from './perplexity.js';
import { tokenNll } from './tokenNll.js';

describe('language-model metrics', () => {
  it('tokenNll is -log softmax[target], stable for large logits', () => {
    const nll = tokenNll([0, 0, 0, 0, 1000, 1000, 1000, 1000], 4, [2, 1]);
    expect(nll[0]).toBeCloseTo(Math.log(4), 14);
    expect(nll[1]).toBeCloseTo(Math.log(4), 14);
    const [a] = tokenNll([Math.log(0.7), Math.log(0.2), Math.log(0.1)], 3, [0]);
    expect(a).toBeCloseTo(-Math.log(0.7), 14);
    expect(() => tokenNll([0, 0, 0], 2, [0])).toThrow(/not a multiple of vocabSize/);
    expect(() => tokenNll([0, 0], 2, [2])).toThrow('tokenNll: targets[0] must be in [0, 1] (got 2)');
  });

  it('perplexity of a uniform model over V tokens is V', () => {
    expect(perplexity(new Array(10).fill(Math.log(50)))).toBeCloseTo(50, 10);
    expect(perplexity([1, 3])).toBeCloseTo(Math.exp(2), 14);
    expect(() => perplexity([-1])).toThrow(/nll\[0\] must be >= 0/);
  });

  it('bits per byte: a uniform byte model scores 8 bits', () => {
    expect(bitsPerByte(new Array(16).fill(Math.log(256)), 16)).toBeCloseTo(8, 12);
    // 3 tokens covering a 6-byte text at 1 nat each: 3 / (6 ln 2) bits per byte
    expect(bitsPerByte([1, 1, 1], 6)).toBeCloseTo(3 / (6 * Math.LN2), 14);
    expect(utf8Bytes('héllo')).toBe(6);
    expect(() => bitsPerByte([1], 0)).toThrow(/bytes must be in|bytes must be >= 1/);
  });

  it('next-token accuracy from argmax predictions', () => {
    const preds = argmaxTokens([0.1, 0.9, 0.5, 0.2, 0.3, 0.3], 3); // rows: [0.1,0.9,0.5] [0.2,0.3,0.3]
    expect(Array.from(preds)).toEqual([1, 1]); // first index wins the tie
    expect(nextTokenAccuracy(preds, [1, 2])).toBe(0.5);
    expect(() => nextTokenAccuracy([1, 2], [1])).toThrow(/targets must have length 2/);
  });
});
