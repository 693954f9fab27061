/** Token helpers shared by the real-size bench and its probe. */

/** Fixed pseudo-random ids in [0, vocab) (xorshift32, seed 7): a random-weight model has no text to read. */
export function benchTokens(n: number, vocab: number): number[] {
  let s = 7;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.push((s >>> 0) % vocab);
  }
  return out;
}

/** Index of the largest value (the first on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
