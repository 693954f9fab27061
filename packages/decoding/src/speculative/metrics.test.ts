/**
 * SpecDecodeMetrics: vLLM's definitions on hand-counted steps.
 */
import { describe, expect, it } from 'vitest';
import { SpecDecodeMetrics } from './metrics';

describe('SpecDecodeMetrics', () => {
  it('acceptance rate, mean acceptance length, per-position rates, forwards per token', () => {
    const m = new SpecDecodeMetrics();
    m.record({ drafted: 4, accepted: 4 }); // emits 5
    m.record({ drafted: 4, accepted: 1 }); // emits 2
    m.record({ drafted: 4, accepted: 0 }); // emits 1
    m.record({ drafted: 0, accepted: 0 }); // no guess: plain step
    const s = m.summary();
    expect(s.numDrafts).toBe(4);
    expect(s.numDraftTokens).toBe(12);
    expect(s.numAcceptedTokens).toBe(5);
    expect(s.numEmittedTokens).toBe(9);
    expect(s.acceptanceRate).toBeCloseTo(5 / 12, 15);
    expect(s.meanAcceptanceLength).toBeCloseTo(1 + 5 / 4, 15);
    expect(s.perPositionAcceptanceRate).toEqual([2 / 4, 1 / 4, 1 / 4, 1 / 4]);
    expect(s.targetForwardsPerToken).toBeCloseTo(4 / 9, 15);
  });

  it('merge adds counts; empty metrics are 0, never NaN; bad steps throw', () => {
    const a = new SpecDecodeMetrics();
    expect(a.summary()).toMatchObject({
      acceptanceRate: 0,
      meanAcceptanceLength: 0,
      targetForwardsPerToken: 0,
    });
    a.record({ drafted: 3, accepted: 2 });
    const b = new SpecDecodeMetrics();
    b.record({ drafted: 3, accepted: 3, emitted: 2 }); // stopped early (EOS)
    a.merge(b);
    expect(a.summary()).toMatchObject({ numDrafts: 2, numAcceptedTokens: 5, numEmittedTokens: 5 });
    expect(a.acceptedPerPosition).toEqual([2, 2, 1]);
    expect(() => a.record({ drafted: 2, accepted: 3 })).toThrow(/accepted <= drafted/);
    expect(() => a.record({ drafted: 2, accepted: 1, emitted: 3 })).toThrow(/emitted/);
  });
});
