import { z } from 'zod';
import { checkFiniteNumber, fail, isArray, parseOptions } from '../util/check.js';
import { majorityVote, weightedVote } from './vote.js';

// Accuracy against sample budget: for each budget b, select an answer from the first b samples of every
// problem and score it (the x-axis of test-time-scaling plots, Snell et al. arXiv 2408.03314; Brown et
// al. arXiv 2407.21787). Selection rules follow HF search-and-learn: `majority`, `weighted`
// (largest summed score per answer), `best` (argmax score: best-of-N), and `oracle` (any correct
// sample: coverage, the upper bound a perfect verifier would reach).

export interface ScoredSample {
  answer: string;
  /** Reward / verifier score; needed for `weighted` and `best`. */
  score?: number;
  /**
   * Whether the sample is correct; computed from `answer === reference` when absent. For the votes, the
   * winning answer is judged by the first sample that gave it.
   */
  correct?: boolean;
}

export interface BudgetProblem {
  samples: readonly ScoredSample[];
  reference: string;
}

const optionsSchema = z
  .object({
    budgets: z.array(z.number().int().min(1)).min(1),
    selection: z.enum(['majority', 'weighted', 'best', 'oracle']).default('majority'),
  })
  .strict();
export type AccuracyAgainstBudgetOptions = z.input<typeof optionsSchema>;

export interface BudgetPoint {
  budget: number;
  accuracy: number;
}

export function accuracyAgainstBudget(
  problems: readonly BudgetProblem[],
  options: AccuracyAgainstBudgetOptions,
): BudgetPoint[] {
  const where = 'accuracyAgainstBudget';
  const opts = parseOptions(optionsSchema, options, where);
  if (!isArray(problems) || problems.length === 0) fail(where, 'problems', 'must be a non-empty array');
  const needScore = opts.selection === 'weighted' || opts.selection === 'best';
  problems.forEach((p, i) => {
    if (!isArray(p?.samples)) fail(where, `problems[${i}].samples`, 'must be an array');
    p.samples.forEach((s, j) => {
      if (typeof s?.answer !== 'string')
        fail(where, `problems[${i}].samples[${j}].answer`, 'must be a string');
      if (needScore) checkFiniteNumber(where, `problems[${i}].samples[${j}].score`, s.score);
    });
  });
  return opts.budgets.map((b) => {
    let right = 0;
    problems.forEach((p, i) => {
      if (p.samples.length < b) {
        fail(where, `problems[${i}].samples`, `has ${p.samples.length} samples, fewer than budget ${b}`);
      }
      const s = p.samples.slice(0, b);
      const isCorrect = (x: ScoredSample) => x.correct ?? x.answer === p.reference;
      let ok: boolean;
      switch (opts.selection) {
        case 'oracle':
          ok = s.some(isCorrect);
          break;
        case 'best': {
          let best = s[0]!;
          for (const x of s) if (x.score! > best.score!) best = x;
          ok = isCorrect(best);
          break;
        }
        case 'weighted': {
          const won = weightedVote(
            s.map((x) => x.answer),
            s.map((x) => x.score!),
          ).answer;
          ok = isCorrect(s.find((x) => x.answer === won)!);
          break;
        }
        default: {
          const won = majorityVote(s.map((x) => x.answer)).answer;
          ok = isCorrect(s.find((x) => x.answer === won)!);
        }
      }
      if (ok) right++;
    });
    return { budget: b, accuracy: right / problems.length };
  });
}

export interface BudgetRun {
  budget: number;
  /** Accuracy, reward or any score measured at that budget. */
  value: number;
}

export interface BudgetMean {
  budget: number;
  mean: number;
  /** Standard error of the mean (0 with one run). */
  sem: number;
  n: number;
}

/** Mean and standard error of a score per budget, over repeated runs (e.g. reward against NFE). */
export function meanAgainstBudget(runs: readonly BudgetRun[]): BudgetMean[] {
  const where = 'meanAgainstBudget';
  if (!isArray(runs) || runs.length === 0) fail(where, 'runs', 'must be a non-empty array');
  const groups = new Map<number, number[]>();
  runs.forEach((r, i) => {
    checkFiniteNumber(where, `runs[${i}].budget`, r?.budget);
    checkFiniteNumber(where, `runs[${i}].value`, r.value);
    const g = groups.get(r.budget) ?? [];
    g.push(r.value);
    groups.set(r.budget, g);
  });
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([budget, vs]) => {
      const mean = vs.reduce((s, v) => s + v, 0) / vs.length;
      const variance = vs.length > 1 ? vs.reduce((s, v) => s + (v - mean) ** 2, 0) / (vs.length - 1) : 0;
      return { budget, mean, sem: Math.sqrt(variance / vs.length), n: vs.length };
    });
}
