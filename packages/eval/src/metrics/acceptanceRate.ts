import { fail } from '../util/check.js';
import { checkCounters, type SpecDecodeCounters } from './specDecodeCounters.js';

// Draft acceptance rate = num_accepted_tokens / num_draft_tokens (vLLM spec-decode metrics; llama.cpp
// reports accepted / generated draft tokens). See reference/decoding-anchors.md §2.3.

export function acceptanceRate(counters: SpecDecodeCounters): number {
  checkCounters('acceptanceRate', counters);
  if (counters.numDraftTokens === 0)
    fail('acceptanceRate', 'counters.numDraftTokens', 'is 0: nothing was drafted');
  return counters.numAcceptedTokens / counters.numDraftTokens;
}
