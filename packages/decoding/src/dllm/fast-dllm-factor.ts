/**
 * @file Fast-dLLM's factor-based parallel commit (Wu et al., arXiv 2505.22618 §3.3, Theorem 1: with
 * marginal confidences c_1 >= c_2 >= ... the product of marginals is a good proxy of the joint while
 * (n + 1)(1 - c_n) < f; code: `get_transfer_index_dynamic`): commit the largest n such that
 * c_j >= tau_j = 1 - f / (j + 1) for every j <= n (j from 1), with tau_1 = -1 so that the most
 * confident position is always committed. Returns n for confidences sorted highest first.
 */
import { DecodingError } from '../errors';

export function factorCommitCount(sortedConfidences: readonly number[], factor: number): number {
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new DecodingError('options', `factorCommitCount: factor must be a positive number, got ${factor}`);
  }
  const n = sortedConfidences.length;
  if (n === 0) return 0;
  let k = 1;
  while (k < n && sortedConfidences[k] >= 1 - factor / (k + 2)) k++;
  return k;
}
