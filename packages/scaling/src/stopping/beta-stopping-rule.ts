/**
 * @file The Beta stopping rule for self-consistency (Aggarwal et al., "Let's Sample Step by Step:
 * Adaptive-Consistency for Efficient Reasoning and Coding with LLMs", arXiv 2305.11860; its_hub's
 * Beta self-consistency: stop when P(top answer > runner-up) ≥ 0.95). With v1 votes for the leading
 * answer and v2 for the runner-up, a uniform prior gives θ = p1/(p1 + p2) ~ Beta(v1 + 1, v2 + 1), and
 *   P(θ > 1/2) = P(Binomial(v1 + v2 + 1, 1/2) ≤ v1)
 * (for integer a, b: P(Beta(a, b) ≤ x) = P(Binomial(a + b − 1, x) ≥ a)), computed exactly.
 */

/** P(p_top > p_second | v1, v2 votes) under a uniform prior. */
export function betaProbabilityLeaderIsBest(v1: number, v2: number): number {
  const n = v1 + v2 + 1;
  // Σ_{k=0}^{v1} C(n, k) / 2^n, with the binomial terms built in log space (n can be in the hundreds).
  let logC = 0; // log C(n, 0)
  let sum = 0;
  for (let k = 0; k <= v1; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    sum += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, sum);
}

/** Vote counts of the leader and the runner-up (0 when there is none). */
export function topTwoCounts(answers: readonly string[]): [number, number] {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  return [sorted[0] ?? 0, sorted[1] ?? 0];
}

/** Whether the Beta rule stops at these answers. */
export function betaShouldStop(answers: readonly string[], confidence = 0.95): boolean {
  if (answers.length === 0) return false;
  const [v1, v2] = topTwoCounts(answers);
  return betaProbabilityLeaderIsBest(v1, v2) >= confidence;
}
