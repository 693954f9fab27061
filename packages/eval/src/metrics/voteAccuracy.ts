import { fail, isArray } from '../util/check.js';
import { type Canonicalize, majorityVote, weightedVote } from './vote.js';

// Accuracy of majority and weighted voting over a set of problems: the fraction of problems whose voted
// answer equals the reference (after canonicalisation). Self-consistency (arXiv 2203.11171); weighted
// best-of-N as in HF search-and-learn.

export interface VotedProblem {
  answers: readonly string[];
  /** Per-answer weights (reward scores) for the weighted vote. */
  weights?: ArrayLike<number>;
  reference: string;
}

export function majorityVoteAccuracy(problems: readonly VotedProblem[], canonicalize?: Canonicalize): number {
  checkProblems('majorityVoteAccuracy', problems);
  const canon = canonicalize ?? ((a: string) => a);
  let right = 0;
  for (const p of problems) if (majorityVote(p.answers, canon).answer === canon(p.reference)) right++;
  return right / problems.length;
}

export function weightedVoteAccuracy(problems: readonly VotedProblem[], canonicalize?: Canonicalize): number {
  checkProblems('weightedVoteAccuracy', problems);
  const canon = canonicalize ?? ((a: string) => a);
  let right = 0;
  problems.forEach((p, i) => {
    if (p.weights === undefined) fail('weightedVoteAccuracy', `problems[${i}].weights`, 'is required');
    if (weightedVote(p.answers, p.weights, canon).answer === canon(p.reference)) right++;
  });
  return right / problems.length;
}

function checkProblems(where: string, problems: readonly VotedProblem[]): void {
  if (!isArray(problems) || problems.length === 0) fail(where, 'problems', 'must be a non-empty array');
  problems.forEach((p, i) => {
    if (typeof p?.reference !== 'string') fail(where, `problems[${i}].reference`, 'must be a string');
  });
}
