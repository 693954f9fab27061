import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scoreByAnswer, scriptedAnswers } from '../testing/toys';
import { weightedBestOfN } from './weighted-best-of-n';

describe('weightedBestOfN', () => {
  it('returns the answer with the largest summed score (3: 0.5 + 0.5 = 1.0 beats 5: 0.9)', async () => {
    const trace = await runStrategy(
      weightedBestOfN({
        proposer: scriptedAnswers(['3', '5', '3', '7']),
        scorer: scoreByAnswer({ '3': 0.5, '5': 0.9, '7': 0.1 }),
        budget: 4,
        concurrency: 1,
      }),
    );
    expect(trace.answer).toBe('3');
    expect(trace.candidates[trace.best as number].answer).toBe('3');
    expect(trace.decisions.at(-1)?.detail).toMatchObject({ answer: '3', support: 1 });
  });

  it('needs proposer.answer', () => {
    const { answer: _a, ...noAnswer } = scriptedAnswers(['1']);
    expect(() => weightedBestOfN({ proposer: noAnswer, scorer: () => 1, budget: 2 })).toThrow(
      /answer\(state\)/,
    );
  });
});
