import { describe, expect, it } from 'vitest';
import { acceptanceRate } from './acceptanceRate.js';
import { meanAcceptanceLength } from './meanAcceptanceLength.js';
import { perPositionAcceptance } from './perPositionAcceptance.js';
import { specDecodeCounters } from './specDecodeCounters.js';

// Hand-worked example: K = 4 drafts per step, 4 steps accepting 4, 2, 0 and 3 tokens.
const steps = [
  { drafted: 4, accepted: 4 },
  { drafted: 4, accepted: 2 },
  { drafted: 4, accepted: 0 },
  { drafted: 4, accepted: 3 },
];

describe('speculative decoding metrics (vLLM definitions)', () => {
  it('accumulates counters with prefix acceptance', () => {
    expect(specDecodeCounters(steps)).toEqual({
      numDrafts: 4,
      numDraftTokens: 16,
      numAcceptedTokens: 9,
      acceptedPerPosition: [3, 3, 2, 1],
    });
  });

  it('acceptance rate = accepted / drafted tokens', () => {
    expect(acceptanceRate(specDecodeCounters(steps))).toBe(9 / 16);
  });

  it('mean acceptance length = 1 + accepted / drafts (bonus token included)', () => {
    expect(meanAcceptanceLength(specDecodeCounters(steps))).toBe(1 + 9 / 4);
  });

  it('per-position rates = accepted at position / drafts, non-increasing', () => {
    expect(perPositionAcceptance(specDecodeCounters(steps))).toEqual([0.75, 0.75, 0.5, 0.25]);
  });

  it('rejects impossible counts and empty runs', () => {
    expect(() => specDecodeCounters([{ drafted: 2, accepted: 3 }])).toThrow(
      'specDecodeCounters: steps[0].accepted must be in [0, 2] (got 3)',
    );
    const empty = specDecodeCounters([]);
    expect(() => acceptanceRate(empty)).toThrow(/numDraftTokens is 0/);
    expect(() => meanAcceptanceLength(empty)).toThrow(/numDrafts is 0/);
    expect(() =>
      acceptanceRate({ numDrafts: 1, numDraftTokens: 2, numAcceptedTokens: 5, acceptedPerPosition: [1, 1] }),
    ).toThrow(/numAcceptedTokens must be in \[0, 2\]/);
  });
});
