/**
 * @file The logits-processor contract. A processor rewrites one row's next-token logits in place
 * (a Float32Array of vocabulary length), given that row's context; a masked token gets -Infinity.
 * A chain of processors is applied in order, the same way to every row, to a target model and to a
 * draft model alike (speculative decoding needs the draft to see exactly what the target sees:
 * Hugging Face PR #28166).
 *
 * Most processors are pure functions of (logits, context). A processor that runs a model of its own
 * (contrastive decoding's amateur, a negative prompt) also implements `step`, called once per
 * decoding step before any row is processed, with what the main model is fed; and `reorder`, called
 * by beam search when rows are re-picked.
 */

/** What a processor may read about the row it rewrites. */
export interface RowContext {
  /** The prompt followed by the tokens generated so far (no padding). */
  readonly tokens: readonly number[];
  /** How many of `tokens` are the prompt. */
  readonly promptLength: number;
  /** The row's index in the batch (processors that keep per-row state key it by this). */
  readonly row: number;
}

/** What the main model is fed at a step, for processors that run a model alongside it. */
export type StepInput =
  | {
      kind: 'prefill';
      /** The prompt of each row (unpadded). */
      prompts: readonly (readonly number[])[];
      /** Upper bound on the tokens that will follow (sizes caches). */
      maxNewTokens: number;
    }
  | {
      kind: 'decode';
      /** One token per row: the row's newest token, or any id for a finished row (ignored). */
      tokens: readonly number[];
    };

export interface LogitsProcessor {
  /** Short name for error messages, e.g. 'top-p'. */
  readonly name: string;
  /** Rewrites `logits` (one row, vocabulary length) in place. */
  process(logits: Float32Array, ctx: RowContext): void;
  /** Advances the processor's own model (if any) by what the main model is fed this step. */
  step?(input: StepInput): Promise<void>;
  /** Row i continues the sequence of old row rows[i] (beam search); the batch may change size. */
  reorder?(rows: readonly number[]): Promise<void>;
  /** Frees what `step` allocated (caches). Called when a generation ends. */
  release?(): void;
}

/** Applies `chain` in order to one row. */
export function applyProcessors(
  chain: readonly LogitsProcessor[],
  logits: Float32Array,
  ctx: RowContext,
): Float32Array {
  for (const p of chain) p.process(logits, ctx);
  return logits;
}
