/**
 * @file Medusa's typical acceptance (Cai et al., arXiv 2401.10774 §2.3.1; FasterDecoding/Medusa
 * `medusa/model/utils.py::evaluate_posterior` and `get_typical_one_token`). NOT distribution-exact:
 * it trades exactness for longer accepted paths at a temperature, as the paper states; the exact
 * rules are verify.ts and tree-verify.ts.
 *
 * A candidate x whose parent's target distribution is p (at the sampling temperature) is accepted iff
 *   p(x) > min(ε, δ · exp(−H(p)))            (ε = posteriorThreshold 0.09, δ = posteriorAlpha 0.3)
 * A node counts only when its whole path from the root is accepted; the deepest such node wins
 * (the first one in index order on ties). The next token is then sampled from the target
 * distribution at that node restricted to the same typical set (its argmax if the set is empty).
 */
import type { Philox } from '@hasten/core-tensor';
import { inputError } from './errors';
import { pathIndices } from './token-tree';

export interface TypicalAcceptanceInput {
  tokens: readonly number[];
  /** parents[i] in [-1, i) (token-tree.ts convention; a chain is [-1, 0, 1, ...]). */
  parents: readonly number[];
  /** S + 1 probability rows (after temperature): row 0 at the root, row i + 1 after node i. */
  probs: readonly ArrayLike<number>[];
  rng: Philox;
  /** ε (default 0.09). */
  posteriorThreshold?: number;
  /** δ (default 0.3). */
  posteriorAlpha?: number;
}

export interface TypicalAcceptanceResult {
  path: number[];
  accepted: number;
  /** The accepted nodes' tokens, then the sampled next token. */
  tokens: number[];
}

/** min(ε, δ · exp(−H(p))): the probability a candidate must exceed under p. */
export function typicalThreshold(p: ArrayLike<number>, epsilon: number, delta: number): number {
  let h = 0;
  for (let j = 0; j < p.length; j++) if (p[j] > 0) h -= p[j] * Math.log(p[j]);
  return Math.min(epsilon, delta * Math.exp(-h));
}

export function typicalAcceptance(input: TypicalAcceptanceInput): TypicalAcceptanceResult {
  const { tokens, parents, probs, rng } = input;
  const eps = input.posteriorThreshold ?? 0.09;
  const delta = input.posteriorAlpha ?? 0.3;
  const S = tokens.length;
  if (parents.length !== S || probs.length !== S + 1) {
    throw inputError(
      'typicalAcceptance',
      `need parents and tokens of one length S and S + 1 probability rows; got ${tokens.length} tokens, ${parents.length} parents, ${probs.length} rows`,
    );
  }
  const thresholds = probs.map((p) => typicalThreshold(p, eps, delta));
  const ok = new Array<boolean>(S).fill(false);
  const depth = new Array<number>(S).fill(0);
  let best = -1;
  for (let i = 0; i < S; i++) {
    const par = parents[i];
    if (!(Number.isInteger(par) && par >= -1 && par < i)) {
      throw inputError('typicalAcceptance', `parents[${i}] = ${par}; must be -1 or an earlier node`);
    }
    const row = par + 1;
    ok[i] = (par < 0 || ok[par]) && probs[row][tokens[i]] > thresholds[row];
    if (!ok[i]) continue;
    depth[i] = par < 0 ? 1 : depth[par] + 1;
    if (best < 0 || depth[i] > depth[best]) best = i;
  }
  const path = best < 0 ? [] : pathIndices(parents, best);
  const row = best + 1;
  const p = probs[row];
  const w = new Float64Array(p.length);
  let any = false;
  for (let j = 0; j < p.length; j++) {
    if (p[j] > thresholds[row]) {
      w[j] = p[j];
      any = true;
    }
  }
  let next: number;
  if (any) {
    next = rng.categorical(w, { probs: true })[0];
  } else {
    next = 0;
    for (let j = 1; j < p.length; j++) if (p[j] > p[next]) next = j;
  }
  return { path, accepted: path.length, tokens: [...path.map((i) => tokens[i]), next] };
}
