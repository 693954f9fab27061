/**
 * @file Picking the next token from processed logits. Greedy: the argmax, first index on ties.
 * Sampled: core-tensor's float64 inverse-CDF categorical draw (f32 Gumbel-max would lower the
 * effective temperature: arXiv:2409.02908 §2.5) from a Philox4x32-10 stream, one stream per row so a
 * row's tokens do not depend on the other rows of its batch, and a seed gives the same tokens on every
 * backend (the stream is defined bit for bit; see core-tensor's rng/generator.ts).
 */
import { type Philox, rng } from '@hasten/core-tensor';
import { DecodingError } from '../errors';
import { maxLogit } from '../processors/probabilities';

/** Index of the largest logit (first on ties); throws on NaN / +Infinity or when every token is masked. */
export function argmax(logits: ArrayLike<number>, where = 'argmax'): number {
  const m = maxLogit(logits, where);
  for (let i = 0; i < logits.length; i++) if (logits[i] === m) return i;
  return -1; // unreachable: maxLogit returned one of the values
}

/** One token drawn from softmax(logits) with `gen` (two 32-bit words: one Philox block). */
export function sampleToken(logits: ArrayLike<number>, gen: Philox, where = 'sample'): number {
  maxLogit(logits, where);
  return gen.categorical(logits)[0];
}

/**
 * The generator of each row. A single seed s gives row r the stream rng(s).fold(r); a list gives
 * row r the stream rng(seeds[r]).fold(0). So a prompt sampled alone with seed s, and the same prompt
 * at any row of a batch given seeds [..., s, ...], draw the same numbers.
 */
export function rowGenerators(seed: number | readonly number[], rows: number): Philox[] {
  if (typeof seed === 'number') {
    const root = rng(seed);
    return Array.from({ length: rows }, (_, r) => root.fold(r));
  }
  if (seed.length !== rows) {
    throw new DecodingError(
      'input',
      `seed has ${seed.length} entries for a batch of ${rows} rows; give one seed or one per row`,
    );
  }
  return seed.map((s) => rng(s).fold(0));
}
