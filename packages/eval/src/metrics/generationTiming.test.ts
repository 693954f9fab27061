import { describe, expect, it } from 'vitest';
import { timePerOutputToken } from './timePerOutputToken.js';
import { timeToFirstToken } from './timeToFirstToken.js';
import { tokensPerSecond, traceTokensPerSecond } from './tokensPerSecond.js';

const trace = { startMs: 100, tokenTimesMs: [150, 160, 170, 180, 190] };

describe('generation timing metrics', () => {
  it('TTFT is first token minus start', () => {
    expect(timeToFirstToken(trace)).toBe(50);
  });

  it('TPOT excludes the first token', () => {
    expect(timePerOutputToken(trace)).toBe(10); // (190 - 150) / 4
    expect(() => timePerOutputToken({ startMs: 0, tokenTimesMs: [5] })).toThrow(/at least 2 tokens/);
  });

  it('tokens per second', () => {
    expect(tokensPerSecond(128, 2)).toBe(64);
    expect(traceTokensPerSecond(trace)).toBeCloseTo(5 / 0.09, 10);
    expect(() => tokensPerSecond(10, 0)).toThrow('tokensPerSecond: seconds must be > 0 (got 0)');
  });

  it('rejects traces that go back in time', () => {
    expect(() => timeToFirstToken({ startMs: 10, tokenTimesMs: [5] })).toThrow(
      /tokenTimesMs\[0\] must be >= /,
    );
    expect(() => timeToFirstToken({ startMs: 0, tokenTimesMs: [] })).toThrow(/at least 1/);
  });
});
