import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scoreByAnswer, scriptedAnswers } from '../testing/toys';
import { adaptiveSampling } from './adaptive-sampling';

describe('adaptiveSampling', () => {
  it('stops at the first sample the self-evaluation rates above the threshold', async () => {
    const proposer = scriptedAnswers(['a', 'b', 'c']);
    const trace = await runStrategy(
      adaptiveSampling({
        proposer,
        scorer: scoreByAnswer({ a: 0.3, b: 0.95, c: 0.99 }),
        budget: 16,
        threshold: 0.9,
      }),
    );
    expect(trace.spent).toBe(2);
    expect(trace.answer).toBe('b');
    expect(proposer.calls).toBe(2);
  });
});
