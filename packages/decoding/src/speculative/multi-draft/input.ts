/**
 * @file The input every single-position multi-draft verifier takes, and its result: the emitted
 * token and which draft it equals (the branch of the draft tree to continue from).
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import { checkTokens, normalized, type ProbRow, RngSchema, RowSchema, TokensSchema } from '../distributions';
import { inputError, parseOptions } from '../errors';

export interface MultiDraftInput {
  /** Target distribution p at this position (processed: temperature, top-k, ...). */
  target: ProbRow;
  /** Draft distribution q the drafts were drawn from. */
  draft: ProbRow;
  /** The k drafts, in the order they were drawn. */
  drafts: readonly number[] | Int32Array;
  rng: Philox;
}

export interface MultiDraftResult {
  /** The emitted token, distributed exactly as p. */
  token: number;
  /** Index of the first draft equal to `token`, or -1 when it equals none (a correction). */
  draftIndex: number;
}

const Schema = z.strictObject({ target: RowSchema, draft: RowSchema, drafts: TokensSchema, rng: RngSchema });

/** Validated input with p and q normalised in f64. */
export function parseMultiDraft(
  where: string,
  input: MultiDraftInput,
): { p: Float64Array; q: Float64Array; drafts: number[]; gen: Philox } {
  const { target, draft, drafts, rng } = parseOptions(Schema, input, where);
  if (target.length !== draft.length) {
    throw inputError(where, `'target' has ${target.length} entries but 'draft' has ${draft.length}`);
  }
  if (drafts.length === 0) throw inputError(where, `'drafts' is empty; need at least one draft`);
  checkTokens(where, drafts, target.length, 'drafts');
  return {
    p: normalized(where, target, 'target'),
    q: normalized(where, draft, 'draft'),
    drafts: Array.from(drafts),
    gen: rng,
  };
}

export const result = (token: number, drafts: readonly number[]): MultiDraftResult => ({
  token,
  draftIndex: drafts.indexOf(token),
});
