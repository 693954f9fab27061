/**
 * @file The Drafter contract (DESIGN.md §2): anything that proposes draft tokens for the target to
 * verify. Model-free drafters (prompt lookup, n-gram tries) and the draft-model drafter implement
 * the same two calls, so the generation loop does not care which one it holds.
 */
import type { Philox } from '@hasten/core-tensor';
import type { LogitsProcessor } from '../../processors/processor';
import type { ProbRow } from '../distributions';
import type { DraftScheme } from '../multi-draft/draft-sampling';

export interface Draft {
  /** Draft tokens: a chain when `parents` is absent, else tree nodes in token-tree.ts convention. */
  tokens: number[];
  /** Tree drafts only: parents[i] in [-1, i), -1 meaning the node follows the context. */
  parents?: number[];
  /**
   * Sampling drafters only: probs[i] is the (processed) distribution tokens[i] was drawn from, for
   * verify()'s 'sampled' mode. Absent: the drafts are deterministic (verify with 'ngram' or 'greedy').
   */
  probs?: ProbRow[];
  /**
   * Sampled trees only: how siblings were drawn from their parent's distribution (several drafts
   * per position, multi-draft verification). Default 'iid'.
   */
  scheme?: DraftScheme;
  /**
   * Tokens scored in the same forward but never verified (Jacobi Lookahead's window): each at
   * position t + positions[i] (t, the last context token, at 0), attending to the context, t and
   * the extra tokens attends[i] lists (itself included), never to the draft. Their logits go back
   * through observeExtra.
   */
  extra?: { tokens: number[]; positions: number[]; attends: number[][] };
}

/** What a generation loop tells its drafter before the first proposal of a sequence. */
export interface DraftSetup {
  /** The processors the target's logits go through (a model drafter applies them too). */
  processors: readonly LogitsProcessor[];
  /** Whether the target samples; a model drafter then samples too and returns `probs`. */
  doSample: boolean;
  /** The drafter's own random stream (sampling drafters). */
  rng?: Philox;
  /** Length of the prompt at the start of the context (processors read it). */
  promptLength: number;
}

export interface Drafter {
  /**
   * Up to `k` draft tokens (for a tree: up to k nodes) continuing `context`, the whole sequence so
   * far (prompt and generated tokens). May return fewer, or none when it has no guess. Model
   * drafters answer asynchronously.
   */
  propose(context: readonly number[], k: number): Draft | Promise<Draft>;
  /** Optional: a generation starts with these processors and this sampling mode. */
  prepare?(setup: DraftSetup): void;
  /**
   * Optional: the target's final hidden state [hidden] at the last committed token, for drafters
   * that read it (Medusa heads). Called before each proposal when `wantsHidden` is set.
   */
  observeHidden?(hidden: Float32Array): void;
  /** Optional: the target's logits rows of the draft's `extra` tokens, in order. */
  observeExtra?(rows: readonly Float32Array[]): void;
  /** Set by drafters that need observeHidden (the loop then asks the target for hidden states). */
  readonly wantsHidden?: boolean;
  /** Optional: frees what the drafter holds (a draft model's cache). */
  release?(): void;
  /**
   * Optional: called after each verification with the tokens it committed (the accepted drafts and
   * the recovered or bonus token), for drafters that learn or keep per-sequence state.
   */
  update?(committed: readonly number[]): void;
  /** Optional: a new sequence starts (what was learnt may be kept; per-sequence state is dropped). */
  reset?(): void;
}
