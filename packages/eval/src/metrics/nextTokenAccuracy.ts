import { checkFiniteArray, checkInteger, fail } from '../util/check.js';

// Next-token (top-1) accuracy: the fraction of positions where the model's argmax prediction equals the
// actual next token under teacher forcing, the accuracy reported per head when training Medusa heads
// (Cai et al., arXiv 2401.10774). A quick check that a ported model matches its reference.

export function nextTokenAccuracy(predicted: ArrayLike<number>, targets: ArrayLike<number>): number {
  const where = 'nextTokenAccuracy';
  checkFiniteArray(where, 'predicted', predicted, { minLength: 1 });
  checkFiniteArray(where, 'targets', targets, { length: predicted.length });
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === targets[i]) right++;
  return right / predicted.length;
}

/** Argmax token per row of row-major logits [tokens, vocabSize] (first index wins ties). */
export function argmaxTokens(logits: ArrayLike<number>, vocabSize: number): Int32Array {
  checkInteger('argmaxTokens', 'vocabSize', vocabSize, 1);
  checkFiniteArray('argmaxTokens', 'logits', logits, { minLength: 1 });
  if (logits.length % vocabSize !== 0) {
    fail('argmaxTokens', 'logits', `length ${logits.length} is not a multiple of vocabSize ${vocabSize}`);
  }
  const rows = logits.length / vocabSize;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    const off = r * vocabSize;
    for (let v = 1; v < vocabSize; v++) if (logits[off + v]! > logits[off + best]!) best = v;
    out[r] = best;
  }
  return out;
}
