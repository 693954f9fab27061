import { fail } from '../util/check.js';
import { checkCounters, type SpecDecodeCounters } from './specDecodeCounters.js';

// Mean acceptance length = 1 + num_accepted_tokens / num_drafts: tokens produced per target forward,
// conventionally including the bonus token (vLLM spec-decode metrics; the "tau" of Medusa/EAGLE papers).

export function meanAcceptanceLength(counters: SpecDecodeCounters): number {
  checkCounters('meanAcceptanceLength', counters);
  if (counters.numDrafts === 0)
    fail('meanAcceptanceLength', 'counters.numDrafts', 'is 0: nothing was drafted');
  return 1 + counters.numAcceptedTokens / counters.numDrafts;
}
