import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scoreByAnswer, scriptedAnswers } from '../testing/toys';
import { bestOfN } from './best-of-n';

// Four samples by hand: answers 3, 5, 3, 7 with scores 0.5, 0.9, 0.5, 0.1.
const ANSWERS = ['3', '5', '3', '7'];
const SCORES = { '3': 0.5, '5': 0.9, '7': 0.1 };

describe('bestOfN', () => {
  it('returns the highest-scoring sample, with every sample and score in the trace', async () => {
    const trace = await runStrategy(
      bestOfN({
        proposer: scriptedAnswers(ANSWERS),
        scorer: scoreByAnswer(SCORES),
        budget: 4,
        concurrency: 1,
      }),
    );
    expect(trace.answer).toBe('5');
    expect(trace.best).toBe(1);
    expect(trace.candidates.map((c) => [c.answer, c.score])).toEqual([
      ['3', 0.5],
      ['5', 0.9],
      ['3', 0.5],
      ['7', 0.1],
    ]);
    expect({ unit: trace.unit, spent: trace.spent, calls: trace.calls }).toEqual({
      unit: 'samples',
      spent: 4,
      calls: { propose: 4, score: 4 },
    });
  });

  it('rejects unknown options and a missing scorer, naming them', () => {
    const proposer = scriptedAnswers(ANSWERS);
    expect(() => bestOfN({ proposer, scorer: scoreByAnswer(SCORES), budget: 4, n: 3 } as never)).toThrow(
      /bestOfN: options is invalid: Unrecognized key: "n"; allowed: proposer, scorer, budget/,
    );
    expect(() => bestOfN({ proposer, budget: 4 } as never)).toThrow(/option 'scorer'/);
    expect(() => bestOfN({ proposer, scorer: scoreByAnswer(SCORES), budget: 0 })).toThrow(/option 'budget'/);
  });

  it('rejects a scorer that returns NaN', async () => {
    const s = bestOfN({ proposer: scriptedAnswers(ANSWERS), scorer: () => Number.NaN, budget: 2 });
    await expect(runStrategy(s)).rejects.toThrow(/scorer returned NaN/);
  });
});
