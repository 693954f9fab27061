import { describe, expect, it } from 'vitest';
import { accuracyAgainstBudget, meanAgainstBudget } from './accuracyAgainstBudget.js';

const problems = [
  {
    reference: '10',
    samples: [
      { answer: '9', score: 0.2 },
      { answer: '10', score: 0.9 },
      { answer: '9', score: 0.3 },
      { answer: '10', score: 0.1 },
    ],
  },
  {
    reference: '3',
    samples: [
      { answer: '3', score: 0.5 },
      { answer: '4', score: 0.6 },
      { answer: '4', score: 0.7 },
      { answer: '4', score: 0.1 },
    ],
  },
];

describe('accuracyAgainstBudget', () => {
  it('applies each selection rule to the first b samples', () => {
    const budgets = [1, 2, 4];
    expect(accuracyAgainstBudget(problems, { budgets, selection: 'oracle' }).map((p) => p.accuracy)).toEqual([
      0.5, 1, 1,
    ]);
    // b=1: p1 '9' wrong, p2 '3' right. b=2: ties go to the first answer: '9' and '3'. b=4: '9'/'10' tie -> '9'; '4'.
    expect(
      accuracyAgainstBudget(problems, { budgets, selection: 'majority' }).map((p) => p.accuracy),
    ).toEqual([0.5, 0.5, 0]);
    // best-of-N by score: b=2: '10' (0.9) right, '4' (0.6) wrong.
    expect(accuracyAgainstBudget(problems, { budgets, selection: 'best' }).map((p) => p.accuracy)).toEqual([
      0.5, 0.5, 0.5,
    ]);
    // weighted at b=4: p1 '10' = 1.0 vs '9' = 0.5 -> right; p2 '4' = 1.4 vs '3' = 0.5 -> wrong.
    expect(accuracyAgainstBudget(problems, { budgets: [4], selection: 'weighted' })[0]!.accuracy).toBe(0.5);
  });

  it('uses the samples\' own correctness flags (e.g. a checker that accepts "28.0" for 28)', () => {
    const flagged = [
      {
        reference: '28',
        samples: [
          { answer: '28.0', correct: true, score: 0.9 },
          { answer: '27', correct: false, score: 0.1 },
          { answer: '28.0', correct: true, score: 0.4 },
        ],
      },
    ];
    for (const selection of ['majority', 'weighted', 'best', 'oracle'] as const) {
      expect(accuracyAgainstBudget(flagged, { budgets: [3], selection })[0]!.accuracy).toBe(1);
    }
  });

  it('rejects budgets beyond the samples and missing scores', () => {
    expect(() => accuracyAgainstBudget(problems, { budgets: [5] })).toThrow(/fewer than budget 5/);
    expect(() =>
      accuracyAgainstBudget([{ reference: '1', samples: [{ answer: '1' }] }], {
        budgets: [1],
        selection: 'best',
      }),
    ).toThrow(/samples\[0\]\.score must be a finite number/);
    expect(() => accuracyAgainstBudget(problems, { budgets: [1], selection: 'vote' as 'best' })).toThrow(
      /options\.selection/,
    );
  });

  it('meanAgainstBudget averages runs per budget with a standard error', () => {
    const m = meanAgainstBudget([
      { budget: 4, value: 0.5 },
      { budget: 1, value: 0.2 },
      { budget: 4, value: 0.7 },
    ]);
    expect(m[0]).toEqual({ budget: 1, mean: 0.2, sem: 0, n: 1 });
    expect(m[1]!.mean).toBeCloseTo(0.6, 15);
    expect(m[1]!.sem).toBeCloseTo(0.1, 12);
  });
});
