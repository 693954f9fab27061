/**
 * @file One error type for @hasten/scaling, and the AbortError a run rejects with. Messages name the
 * option or input, what is allowed and what was found; `code` lets callers branch without parsing.
 */
import type { Trace } from './trace';

export type ScalingErrorCode =
  | 'options' // unknown key or invalid value in the options of a public function
  | 'input' // a weight, score or state a proposer/scorer returned that cannot be used
  | 'budget'; // a budget too small for the strategy's minimum

export class ScalingError extends Error {
  constructor(
    readonly code: ScalingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ScalingError';
  }
}

/**
 * What a run rejects with when its AbortSignal fires: `name` is 'AbortError' (as fetch's), `trace`
 * holds everything recorded before the abort (candidates, decisions, budget spent).
 */
export class StrategyAbortError extends Error {
  constructor(
    readonly trace: Trace<unknown>,
    readonly reason?: unknown,
  ) {
    super(`${trace.strategy}: aborted after spending ${trace.spent} ${trace.unit}`);
    this.name = 'AbortError';
  }
}

/** True for any AbortError (ours, a DOMException from fetch, or a signal's default reason). */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}
