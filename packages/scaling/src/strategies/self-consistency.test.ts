import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scriptedAnswers } from '../testing/toys';
import { selfConsistency } from './self-consistency';

describe('selfConsistency', () => {
  it('fixed: majority vote over N samples (3 wins 3 of 5)', async () => {
    const trace = await runStrategy(
      selfConsistency({ proposer: scriptedAnswers(['3', '5', '3', '7', '3']), budget: 5, concurrency: 1 }),
    );
    expect(trace.answer).toBe('3');
    expect(trace.spent).toBe(5);
  });

  it('adaptive: checks at 2, 4, 8 and stops at the first 75% supermajority (3 of 4)', async () => {
    const proposer = scriptedAnswers(['3', '5', '3', '3', '9', '9', '9', '9']);
    const trace = await runStrategy(
      selfConsistency({ proposer, budget: 8, stopping: 'adaptive', concurrency: 1 }),
    );
    expect(trace.spent).toBe(4);
    expect(proposer.calls).toBe(4);
    expect(trace.answer).toBe('3');
    expect(trace.decisions.filter((d) => d.kind !== 'select').map((d) => d.kind)).toEqual([
      'continue',
      'stop',
    ]);
  });

  it('beta: stops after 4 unanimous votes; a wave of 3 pays for 6 and discards 2', async () => {
    const one = await runStrategy(
      selfConsistency({ proposer: scriptedAnswers(['4']), budget: 32, stopping: 'beta', concurrency: 1 }),
    );
    expect(one.spent).toBe(4);
    const three = await runStrategy(
      selfConsistency({ proposer: scriptedAnswers(['4']), budget: 32, stopping: 'beta', concurrency: 3 }),
    );
    expect(three.spent).toBe(6);
    expect(three.candidates.map((c) => c.status)).toEqual([
      'complete',
      'complete',
      'complete',
      'complete',
      'discarded',
      'discarded',
    ]);
    expect(three.answer).toBe('4');
  });

  it('beta: never stops on a tie and uses the whole budget', async () => {
    const trace = await runStrategy(
      selfConsistency({
        proposer: scriptedAnswers(['1', '2']),
        budget: 10,
        stopping: 'beta',
        concurrency: 1,
      }),
    );
    expect(trace.spent).toBe(10);
    expect(trace.answer).toBe('1'); // 5 against 5: the first seen
  });
});
