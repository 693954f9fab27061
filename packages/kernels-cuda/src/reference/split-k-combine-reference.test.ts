/**
 * The split-K merge is exact: on fresh random scores and values, cutting the keys into chunks
 * (empty and fully masked chunks included), taking each chunk's partial and merging gives the plain
 * softmax-weighted sum computed in one pass here.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { splitKCombineReference, splitKPartialReference } from './split-k-combine-reference';

const gen = rng(1402);

function direct(scores: Float64Array, values: Float64Array, Dv: number): Float64Array {
  const out = new Float64Array(Dv);
  const finite = [...scores].filter((s) => s !== Number.NEGATIVE_INFINITY);
  if (finite.length === 0) return out;
  const mx = Math.max(...finite);
  let z = 0;
  for (let j = 0; j < scores.length; j++)
    if (scores[j] !== Number.NEGATIVE_INFINITY) z += Math.exp(scores[j] - mx);
  for (let j = 0; j < scores.length; j++) {
    if (scores[j] === Number.NEGATIVE_INFINITY) continue;
    const p = Math.exp(scores[j] - mx) / z;
    for (let d = 0; d < Dv; d++) out[d] += p * values[j * Dv + d];
  }
  return out;
}

function split(scores: Float64Array, values: Float64Array, Dv: number, splits: number) {
  const T = scores.length;
  const chunk = Math.ceil(T / splits);
  const parts = [];
  for (let c = 0; c < splits; c++) {
    const [a, b] = [Math.min(T, c * chunk), Math.min(T, (c + 1) * chunk)];
    parts.push(splitKPartialReference(scores.subarray(a, b), values.subarray(a * Dv, b * Dv), Dv));
  }
  return parts;
}

describe('split-K combine', () => {
  for (const [T, splits] of [
    [100, 1],
    [100, 7],
    [33, 8],
    [5, 8],
  ] as const) {
    it(`T=${T} in ${splits} chunks equals one-pass softmax attention`, () => {
      const Dv = 12;
      // scores spread over ~40 nats, so the chunk maxima differ a lot; about a quarter masked
      const scores = Float64Array.from(gen.normal(T), (x) => x * 10);
      const u = gen.uniform(T);
      for (let j = 0; j < T; j++) if (u[j] < 0.25) scores[j] = Number.NEGATIVE_INFINITY;
      const values = Float64Array.from(gen.normal(T * Dv));
      const got = splitKCombineReference(split(scores, values, Dv, splits), Dv);
      const want = direct(scores, values, Dv);
      for (let d = 0; d < Dv; d++) expect(got[d]).toBeCloseTo(want[d], 12);
    });
  }

  it('a query with no allowed key gets zeros, as core-tensor sdpa defines', () => {
    const scores = new Float64Array(9).fill(Number.NEGATIVE_INFINITY);
    const got = splitKCombineReference(split(scores, Float64Array.from(gen.normal(9 * 3)), 3, 3), 3);
    expect([...got]).toEqual([0, 0, 0]);
  });
});
