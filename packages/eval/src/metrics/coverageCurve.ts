import { checkInteger, fail, isArray } from '../util/check.js';
import { passAtK } from './passAtK.js';

// Coverage curve: mean unbiased pass@k over problems as a function of the sample budget k
// (Brown et al., "Large Language Monkeys", arXiv 2407.21787: coverage grows log-linearly in k).

export interface ProblemOutcome {
  /** Samples drawn for the problem. */
  n: number;
  /** Samples that were correct. */
  c: number;
}

export interface CoveragePoint {
  k: number;
  coverage: number;
}

/** Coverage at each k (default: powers of two up to the smallest n). Each k must be <= every problem's n. */
export function coverageCurve(problems: readonly ProblemOutcome[], ks?: readonly number[]): CoveragePoint[] {
  const where = 'coverageCurve';
  if (!isArray(problems) || problems.length === 0) fail(where, 'problems', 'must be a non-empty array');
  let minN = Infinity;
  problems.forEach((p, i) => {
    checkInteger(where, `problems[${i}].n`, p?.n, 1);
    checkInteger(where, `problems[${i}].c`, p?.c, 0, p.n);
    minN = Math.min(minN, p.n);
  });
  const budgets = ks ?? powersOfTwo(minN);
  return budgets.map((k, i) => {
    checkInteger(where, `ks[${i}]`, k, 1, minN);
    let sum = 0;
    for (const p of problems) sum += passAtK(p.n, p.c, k);
    return { k, coverage: sum / problems.length };
  });
}

/** Per-problem outcomes from boolean correctness lists (one list of samples per problem). */
export function outcomesFromSamples(correct: readonly (readonly boolean[])[]): ProblemOutcome[] {
  if (!isArray(correct)) fail('outcomesFromSamples', 'correct', 'must be an array of boolean arrays');
  return correct.map((samples, i) => {
    if (!isArray(samples) || samples.length === 0) {
      fail('outcomesFromSamples', `correct[${i}]`, 'must be a non-empty boolean array');
    }
    return { n: samples.length, c: samples.filter(Boolean).length };
  });
}

function powersOfTwo(max: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= max; k *= 2) out.push(k);
  if (out[out.length - 1] !== max) out.push(max);
  return out;
}
