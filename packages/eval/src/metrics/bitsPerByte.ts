import { checkFiniteArray, checkInteger, fail } from '../util/check.js';

// Bits per byte = (sum of token NLLs in nats) / (ln 2 * number of UTF-8 bytes of the text). Tokenizer
// independent, so models with different vocabularies compare (Gao et al., The Pile, arXiv 2101.00027).
// For a byte-level model (one token per byte) it is the mean NLL in bits.

export function bitsPerByte(nll: ArrayLike<number>, bytes: number): number {
  checkFiniteArray('bitsPerByte', 'nll', nll, { minLength: 1 });
  checkInteger('bitsPerByte', 'bytes', bytes, 1);
  let sum = 0;
  for (let i = 0; i < nll.length; i++) {
    if (nll[i]! < 0) fail('bitsPerByte', `nll[${i}]`, `must be >= 0, got ${nll[i]}`);
    sum += nll[i]!;
  }
  return sum / (Math.LN2 * bytes);
}

/** UTF-8 byte length of a string (isomorphic: TextEncoder exists in Node and browsers). */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
