import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { chiSquare, histogram, softmaxRef } from '../testing';
import { factorCommitCount } from './fast-dllm-factor';
import { thresholdCommitCount } from './fast-dllm-threshold';
import { byConfidence, numTransferTokens, predict } from './llada';

describe('numTransferTokens (LLaDA get_num_transfer_tokens)', () => {
  it('splits the masks evenly, the remainder to the first steps', () => {
    expect(numTransferTokens(10, 4)).toEqual([3, 3, 2, 2]);
    expect(numTransferTokens(32, 32)).toEqual(new Array(32).fill(1));
    expect(numTransferTokens(3, 5)).toEqual([1, 1, 1, 0, 0]);
    expect(numTransferTokens(0, 2)).toEqual([0, 0]);
    expect(() => numTransferTokens(4, 0)).toThrow(/steps/);
  });
});

describe('predict', () => {
  const logits = [1.5, -0.5, 0.25, 2, 0, -3];

  it('greedy: the argmax (the mask token skipped) and its float64 softmax probability', () => {
    const p = softmaxRef(logits);
    expect(predict(logits, 0, 'low-confidence', 5, null)).toEqual({ token: 3, confidence: p[3] });
    // With the mask id on the argmax, the next best token is predicted.
    expect(predict(logits, 0, 'low-confidence', 3, null).token).toBe(0);
  });

  it('temperature T draws from softmax(logits / T) (float64 Gumbel-max; chi-square, 20k draws, p > 1e-3)', () => {
    for (const T of [0.5, 1, 2]) {
      const gen = rng(42 + T * 10);
      const draws = Array.from({ length: 20000 }, () => predict(logits, T, 'low-confidence', 99, gen).token);
      const { p, impossible } = chiSquare(
        histogram(draws, logits.length),
        softmaxRef(logits.map((l) => l / T)),
      );
      expect(impossible).toBe(0);
      expect(p).toBeGreaterThan(1e-3);
    }
  });

  it('random remasking: the confidence is a uniform draw', () => {
    const gen = rng(3);
    const c = Array.from({ length: 4000 }, () => predict(logits, 0, 'random', 99, gen).confidence);
    const bins = histogram(
      c.map((u) => Math.floor(u * 10)),
      10,
    );
    expect(chiSquare(bins, new Array(10).fill(0.1)).p).toBeGreaterThan(1e-3);
  });

  it('rejects NaN logits', () => {
    expect(() => predict([0, Number.NaN], 0, 'low-confidence', 9, null)).toThrow(/NaN/);
  });
});

describe('commit rules', () => {
  it('byConfidence: highest first, ties by position', () => {
    const items = [
      { position: 4, confidence: 0.2 },
      { position: 1, confidence: 0.9 },
      { position: 2, confidence: 0.2 },
    ];
    expect(byConfidence(items)).toEqual([1, 2, 0]);
  });

  it('threshold: the top-1 always, then every confidence >= threshold', () => {
    expect(thresholdCommitCount([0.5, 0.4], 0.9)).toBe(1);
    expect(thresholdCommitCount([0.99, 0.95, 0.9, 0.89, 0.95], 0.9)).toBe(3);
    expect(thresholdCommitCount([], 0.9)).toBe(0);
    expect(() => thresholdCommitCount([0.5], 0)).toThrow(/threshold/);
  });

  it('factor: the largest n with c_j >= 1 - f / (j + 1) for j = 2..n', () => {
    // f = 1: bars 2/3 (j=2), 3/4 (j=3), 4/5 (j=4), 5/6 (j=5).
    expect(factorCommitCount([0.95, 0.9, 0.76, 0.7], 1)).toBe(3);
    expect(factorCommitCount([0.95, 0.7, 0.6], 1)).toBe(2);
    expect(factorCommitCount([0.3, 0.1], 1)).toBe(1);
    expect(factorCommitCount([0.9, 0.88, 0.85, 0.84, 0.84], 1)).toBe(5);
    // f = 2: bars 1/3, 1/2, 3/5.
    expect(factorCommitCount([0.5, 0.4, 0.5, 0.59], 2)).toBe(3);
    expect(() => factorCommitCount([0.5], 0)).toThrow(/factor/);
  });
});
