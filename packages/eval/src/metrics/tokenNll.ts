import { checkFiniteArray, checkInteger, fail } from '../util/check.js';

// Per-token negative log-likelihood in nats from raw logits: -log softmax(logits)[target], the per-token
// cross-entropy (as torch.nn.functional.cross_entropy with reduction 'none', which the Hugging Face
// perplexity guide averages), computed with a max-shifted log-sum-exp in float64 so large logits neither
// overflow nor lose precision.

/** `logits` is row-major [tokens, vocabSize]; returns one NLL per row. */
export function tokenNll(
  logits: ArrayLike<number>,
  vocabSize: number,
  targets: ArrayLike<number>,
): Float64Array {
  const where = 'tokenNll';
  checkInteger(where, 'vocabSize', vocabSize, 1);
  checkFiniteArray(where, 'logits', logits, { minLength: 1 });
  if (logits.length % vocabSize !== 0) {
    fail(where, 'logits', `length ${logits.length} is not a multiple of vocabSize ${vocabSize}`);
  }
  const rows = logits.length / vocabSize;
  if (targets.length !== rows)
    fail(where, 'targets', `must have one entry per row (${rows}), got ${targets.length}`);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const t = checkInteger(where, `targets[${r}]`, targets[r], 0, vocabSize - 1);
    const off = r * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) max = Math.max(max, logits[off + v]!);
    let sum = 0;
    for (let v = 0; v < vocabSize; v++) sum += Math.exp(logits[off + v]! - max);
    out[r] = max + Math.log(sum) - logits[off + t]!;
  }
  return out;
}
