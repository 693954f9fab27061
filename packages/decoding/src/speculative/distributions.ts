/**
 * @file Probability rows as the verifiers read them: checked, summed and compared in f64 whatever
 * the storage (Float32Array rows straight from a logits buffer are fine), argmax with the first
 * index on ties, and sampling of unnormalised f64 weights through core-tensor's Philox categorical.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import { inputError } from './errors';

/** One distribution over the vocabulary: non-negative weights of any positive sum (f32 or f64). */
export type ProbRow = ArrayLike<number>;

const isRow = (v: unknown): v is ProbRow =>
  ArrayBuffer.isView(v) || (Array.isArray(v) && v.every((x) => typeof x === 'number'));

/** zod schemas shared by the verifiers' inputs. */
export const RowSchema = z.custom<ProbRow>(isRow, 'expected a Float32Array, Float64Array or number[] row');
export const TokenSchema = z.number().int().nonnegative();
export const TokensSchema = z.union([
  z.array(TokenSchema).readonly(),
  z.custom<Int32Array>((v) => v instanceof Int32Array, 'expected token ids (number[] or Int32Array)'),
]);
export const RngSchema = z.custom<Philox>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Philox).uniform === 'function',
  'expected a Philox generator (rng(seed) from @hasten/core-tensor)',
);

/** The f64 sum of a row of weights; throws unless every entry is finite and >= 0 and the sum is > 0. */
export function rowSum(where: string, row: ProbRow, name: string): number {
  let sum = 0;
  for (let j = 0; j < row.length; j++) {
    const x = row[j];
    if (!(x >= 0) || x === Number.POSITIVE_INFINITY) {
      throw inputError(where, `${name}[${j}] is ${x}; probabilities must be finite and >= 0`);
    }
    sum += x;
  }
  if (!(sum > 0)) throw inputError(where, `${name} sums to 0; nothing can be sampled from it`);
  return sum;
}

/** `row` as normalised f64 probabilities (checked as in rowSum). */
export function normalized(where: string, row: ProbRow, name: string): Float64Array {
  const sum = rowSum(where, row, name);
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = row[j] / sum;
  return out;
}

/** Index of the largest entry (first on ties). Works on logits too; NaN is an error. */
export function argmax(where: string, row: ProbRow, name: string): number {
  let best = 0;
  for (let j = 0; j < row.length; j++) {
    const x = row[j];
    if (Number.isNaN(x)) throw inputError(where, `${name}[${j}] is NaN`);
    if (x > row[best]) best = j;
  }
  return best;
}

/**
 * One index drawn from non-negative f64 weights (any positive sum) with the generator's f64
 * inverse-CDF categorical: one uniform, i.e. one Philox block.
 */
export function sampleWeights(gen: Philox, weights: ArrayLike<number>): number {
  return gen.categorical(weights, { probs: true })[0];
}

/** Throws unless every row has `vocab` entries. */
export function checkRows(where: string, rows: readonly ProbRow[], vocab: number, name: string): void {
  rows.forEach((r, i) => {
    if (r.length !== vocab) {
      throw inputError(where, `${name}[${i}] has ${r.length} entries; expected the vocabulary size ${vocab}`);
    }
  });
}

/** Throws unless every token id is in [0, vocab). */
export function checkTokens(where: string, tokens: ArrayLike<number>, vocab: number, name: string): void {
  for (let i = 0; i < tokens.length; i++) {
    if (!(tokens[i] >= 0 && tokens[i] < vocab)) {
      throw inputError(where, `${name}[${i}] = ${tokens[i]} is outside the vocabulary [0, ${vocab})`);
    }
  }
}
