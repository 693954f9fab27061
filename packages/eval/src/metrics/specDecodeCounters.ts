import { checkInteger, fail, isArray } from '../util/check.js';

// Speculative-decoding counters with vLLM's names (docs/features/spec_decode acceptance metrics;
// Prometheus `vllm:spec_decode_num_drafts`, `_num_draft_tokens`, `_num_accepted_tokens`,
// `_num_accepted_tokens_per_pos`). Acceptance metrics are functions of these counters.

export interface SpecDecodeCounters {
  /** Verification steps that had a draft. */
  numDrafts: number;
  /** Draft tokens proposed in total. */
  numDraftTokens: number;
  /** Draft tokens accepted in total (bonus tokens not counted). */
  numAcceptedTokens: number;
  /** acceptedPerPosition[i]: drafts whose token at position i was accepted (positions 0..K-1). */
  acceptedPerPosition: number[];
}

/** One verification step: how many tokens were drafted and how many of them (a prefix) were accepted. */
export interface DraftStep {
  drafted: number;
  accepted: number;
}

/** Accumulates counters from per-step outcomes (acceptance is a prefix: accepted=a means positions 0..a-1). */
export function specDecodeCounters(steps: readonly DraftStep[]): SpecDecodeCounters {
  const where = 'specDecodeCounters';
  if (!isArray(steps)) fail(where, 'steps', 'must be an array of { drafted, accepted }');
  const perPos: number[] = [];
  let numDrafts = 0;
  let numDraftTokens = 0;
  let numAcceptedTokens = 0;
  steps.forEach((s, i) => {
    const drafted = checkInteger(where, `steps[${i}].drafted`, s?.drafted, 0);
    const accepted = checkInteger(where, `steps[${i}].accepted`, s?.accepted, 0, drafted);
    if (drafted === 0) return;
    numDrafts++;
    numDraftTokens += drafted;
    numAcceptedTokens += accepted;
    while (perPos.length < drafted) perPos.push(0);
    for (let p = 0; p < accepted; p++) perPos[p]!++;
  });
  return { numDrafts, numDraftTokens, numAcceptedTokens, acceptedPerPosition: perPos };
}

export function checkCounters(where: string, c: SpecDecodeCounters): SpecDecodeCounters {
  if (c === null || typeof c !== 'object') fail(where, 'counters', 'must be a SpecDecodeCounters object');
  checkInteger(where, 'counters.numDrafts', c.numDrafts, 0);
  checkInteger(where, 'counters.numDraftTokens', c.numDraftTokens, 0);
  checkInteger(where, 'counters.numAcceptedTokens', c.numAcceptedTokens, 0, c.numDraftTokens);
  if (!isArray(c.acceptedPerPosition)) fail(where, 'counters.acceptedPerPosition', 'must be an array');
  c.acceptedPerPosition.forEach((v, i) => {
    checkInteger(where, `counters.acceptedPerPosition[${i}]`, v, 0, c.numDrafts);
  });
  return c;
}
