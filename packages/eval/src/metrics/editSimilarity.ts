import { fail } from '../util/check.js';

// Character-level similarity for code completion: edit similarity = 1 - Levenshtein(a, b) / max(|a|, |b|)
// (CodeXGLUE line completion, arXiv 2102.04664; RepoBench, arXiv 2306.03091), and the prefix match =
// length of the common prefix / |reference| (how far a completion is right before it first goes wrong).

export function levenshtein(a: string, b: string): number {
  if (typeof a !== 'string') fail('levenshtein', 'a', 'must be a string');
  if (typeof b !== 'string') fail('levenshtein', 'b', 'must be a string');
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** 1 for identical strings (including two empty strings), 0 for nothing in common. */
export function editSimilarity(prediction: string, reference: string): number {
  const longest = Math.max(prediction.length, reference.length);
  if (longest === 0) return 1;
  return 1 - levenshtein(prediction, reference) / longest;
}

/** Common-prefix length / reference length (1 when the reference is empty). */
export function prefixMatch(prediction: string, reference: string): number {
  if (typeof prediction !== 'string') fail('prefixMatch', 'prediction', 'must be a string');
  if (typeof reference !== 'string') fail('prefixMatch', 'reference', 'must be a string');
  if (reference.length === 0) return 1;
  let i = 0;
  while (i < reference.length && i < prediction.length && prediction[i] === reference[i]) i++;
  return i / reference.length;
}
