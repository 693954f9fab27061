/**
 * @file Fast-dLLM's confidence-threshold parallel commit (Wu et al., "Fast-dLLM: Training-free
 * Acceleration of Diffusion LLM by Enabling KV Cache and Parallel Decoding", arXiv 2505.22618 §3.3;
 * NVlabs/Fast-dLLM llada/generate.py `get_transfer_index` with `threshold`): among the masked
 * positions of the current block, commit the most confident one always and every other whose
 * confidence c_j >= threshold. Returns how many of the confidences, sorted highest first, to commit.
 */
import { DecodingError } from '../errors';

export function thresholdCommitCount(sortedConfidences: readonly number[], threshold: number): number {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new DecodingError('options', `thresholdCommitCount: threshold must be in (0, 1], got ${threshold}`);
  }
  const n = sortedConfidences.length;
  if (n === 0) return 0;
  let k = 1;
  while (k < n && sortedConfidences[k] >= threshold) k++;
  return k;
}
