import { checkFiniteArray, fail, isArray } from '../util/check.js';

// Answer aggregation over N sampled answers (Wang et al. 2022, self-consistency, arXiv 2203.11171;
// HF search-and-learn `src/sal/utils/math.py`: `pred_maj` and `find_answer_with_largest_sum`).
// Majority vote: the most frequent canonical answer. Weighted vote: group by canonical answer, sum the
// scores (e.g. reward-model scores) per group, take the largest sum. Ties go to the answer seen first,
// so the result is deterministic.

export interface VoteResult {
  answer: string;
  /** Votes (majority) or summed weight (weighted) of the winner. */
  support: number;
}

export type Canonicalize = (answer: string) => string;

const identity: Canonicalize = (a) => a;

export function majorityVote(answers: readonly string[], canonicalize: Canonicalize = identity): VoteResult {
  if (!isArray(answers) || answers.length === 0) fail('majorityVote', 'answers', 'must be a non-empty array');
  return weightedVote(answers, new Array(answers.length).fill(1), canonicalize, 'majorityVote');
}

export function weightedVote(
  answers: readonly string[],
  weights: ArrayLike<number>,
  canonicalize: Canonicalize = identity,
  where = 'weightedVote',
): VoteResult {
  if (!isArray(answers) || answers.length === 0) fail(where, 'answers', 'must be a non-empty array');
  checkFiniteArray(where, 'weights', weights, { length: answers.length });
  const sums = new Map<string, number>();
  answers.forEach((a, i) => {
    if (typeof a !== 'string') fail(where, `answers[${i}]`, 'must be a string');
    const key = canonicalize(a);
    sums.set(key, (sums.get(key) ?? 0) + weights[i]!);
  });
  let best: VoteResult | null = null;
  for (const [answer, support] of sums) {
    if (best === null || support > best.support) best = { answer, support };
  }
  return best!;
}
