/**
 * @file Adaptive self-consistency's stopping rule (its_hub `eval/results.md`, "Adaptive SC"): start
 * with 2 samples; stop when the leading answer holds at least a 75% supermajority of the samples
 * so far; otherwise double the sample count, up to the budget.
 */
import { topTwoCounts } from './beta-stopping-rule';

export function supermajorityReached(answers: readonly string[], fraction = 0.75): boolean {
  if (answers.length === 0) return false;
  return topTwoCounts(answers)[0] >= fraction * answers.length;
}

/** The sample counts adaptive SC checks at: 2, 4, 8, ... capped at n (n itself last). */
export function doublingCheckpoints(n: number, start = 2): number[] {
  const out: number[] = [];
  for (let k = Math.min(start, n); k < n; k *= 2) out.push(k);
  out.push(n);
  return out;
}
