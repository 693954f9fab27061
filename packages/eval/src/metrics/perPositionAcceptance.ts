import { fail } from '../util/check.js';
import { checkCounters, type SpecDecodeCounters } from './specDecodeCounters.js';

// Per-position acceptance rate: accepted_per_pos[i] / num_drafts for positions 0..K-1 (vLLM
// spec-decode metrics). Non-increasing in i because acceptance stops at the first rejection.

export function perPositionAcceptance(counters: SpecDecodeCounters): number[] {
  checkCounters('perPositionAcceptance', counters);
  if (counters.numDrafts === 0)
    fail('perPositionAcceptance', 'counters.numDrafts', 'is 0: nothing was drafted');
  return counters.acceptedPerPosition.map((a) => a / counters.numDrafts);
}
