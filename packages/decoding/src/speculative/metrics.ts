/**
 * @file Speculative-decoding metrics with vLLM's definitions (vllm/v1/spec_decode/metrics.py):
 * - acceptance rate = accepted draft tokens / drafted tokens;
 * - mean acceptance length = 1 + accepted / drafts (it counts the bonus or recovered token, so plain
 *   decoding scores 1);
 * - per-position acceptance rate i = drafts whose position i was accepted / drafts;
 * - target forwards per token = verification steps / tokens emitted (1 for plain decoding).
 * A "draft" is one verification step (one chain or one tree); for a tree, position i is depth i
 * along the accepted path and drafted tokens counts every node. vLLM v0 counted differently (#9565);
 * these are the v1 definitions.
 */
import { inputError } from './errors';

export interface SpecDecodeStep {
  /** Draft tokens proposed in this step (tree: number of nodes). May be 0 (no guess). */
  drafted: number;
  /** Draft tokens accepted (the accepted path length). */
  accepted: number;
  /** Tokens this step emitted (default accepted + 1: the recovered or bonus token). */
  emitted?: number;
}

export interface SpecDecodeSummary {
  numDrafts: number;
  numDraftTokens: number;
  numAcceptedTokens: number;
  numEmittedTokens: number;
  acceptanceRate: number;
  meanAcceptanceLength: number;
  perPositionAcceptanceRate: number[];
  targetForwardsPerToken: number;
}

export class SpecDecodeMetrics {
  numDrafts = 0;
  numDraftTokens = 0;
  numAcceptedTokens = 0;
  numEmittedTokens = 0;
  /** acceptedPerPosition[i]: steps whose draft position i was accepted. */
  readonly acceptedPerPosition: number[] = [];

  /** Count one verification step. */
  record(step: SpecDecodeStep): void {
    const { drafted, accepted } = step;
    const emitted = step.emitted ?? accepted + 1;
    const ok =
      Number.isInteger(drafted) &&
      Number.isInteger(accepted) &&
      Number.isInteger(emitted) &&
      accepted >= 0 &&
      accepted <= drafted &&
      emitted >= 0 &&
      emitted <= accepted + 1;
    if (!ok) {
      throw inputError(
        'SpecDecodeMetrics.record',
        `need integers 0 <= accepted <= drafted and 0 <= emitted <= accepted + 1, got drafted ${drafted}, accepted ${accepted}, emitted ${emitted}`,
      );
    }
    this.numDrafts++;
    this.numDraftTokens += drafted;
    this.numAcceptedTokens += accepted;
    this.numEmittedTokens += emitted;
    for (let i = 0; i < accepted; i++) this.acceptedPerPosition[i] = (this.acceptedPerPosition[i] ?? 0) + 1;
  }

  /** Add another accumulator's counts (e.g. per-request metrics into a total). */
  merge(other: SpecDecodeMetrics): void {
    this.numDrafts += other.numDrafts;
    this.numDraftTokens += other.numDraftTokens;
    this.numAcceptedTokens += other.numAcceptedTokens;
    this.numEmittedTokens += other.numEmittedTokens;
    other.acceptedPerPosition.forEach((n, i) => {
      this.acceptedPerPosition[i] = (this.acceptedPerPosition[i] ?? 0) + n;
    });
  }

  /** The rates; 0 where nothing was counted yet (never NaN). */
  summary(): SpecDecodeSummary {
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    return {
      numDrafts: this.numDrafts,
      numDraftTokens: this.numDraftTokens,
      numAcceptedTokens: this.numAcceptedTokens,
      numEmittedTokens: this.numEmittedTokens,
      acceptanceRate: ratio(this.numAcceptedTokens, this.numDraftTokens),
      meanAcceptanceLength: this.numDrafts > 0 ? 1 + this.numAcceptedTokens / this.numDrafts : 0,
      perPositionAcceptanceRate: this.acceptedPerPosition.map((n) => ratio(n, this.numDrafts)),
      targetForwardsPerToken: ratio(this.numDrafts, this.numEmittedTokens),
    };
  }
}
