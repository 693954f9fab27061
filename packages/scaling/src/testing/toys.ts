/**
 * @file Plain-function proposers and scorers for the tests (no model): a scripted one-step answerer,
 * a scripted tree, and a two-state hidden Markov model whose posterior is computed by enumeration.
 */
import type { Proposer, Scorer } from '../proposer';

/** One-step generations whose answers follow `answers` in call order (use concurrency 1). */
export function scriptedAnswers(
  answers: readonly string[],
): Proposer<{ answer?: string }> & { calls: number } {
  const p = {
    calls: 0,
    initial: () => ({}),
    propose: () => ({ answer: answers[p.calls++ % answers.length] }),
    done: (s: { answer?: string }) => s.answer !== undefined,
    answer: (s: { answer?: string }) => s.answer as string,
  };
  return p;
}

/** A score table keyed by answer. */
export const scoreByAnswer =
  (table: Record<string, number>): Scorer<{ answer?: string }> =>
  (s) =>
    table[s.answer as string];

/**
 * A tree of strings: from prefix p, the k-th call proposing from p returns p + children(p)[k mod m]
 * (deterministic, so beam search and DVTS can be worked by hand); done at `depth` characters.
 */
export function scriptedTree(children: Record<string, string>, depth: number): Proposer<string> {
  const seen = new Map<string, number>();
  return {
    initial: () => '',
    propose: (p) => {
      const k = seen.get(p) ?? 0;
      seen.set(p, k + 1);
      const options = children[p] ?? 'x';
      return p + options[k % options.length];
    },
    done: (p) => p.length >= depth,
    answer: (p) => p,
  };
}

/** A two-state HMM: x_1 ~ prior, x_t | x_{t-1} ~ A, y_t | x_t ~ B; observations fixed. */
export const HMM = {
  prior: [0.6, 0.4],
  A: [
    [0.7, 0.3],
    [0.2, 0.8],
  ],
  B: [
    [0.9, 0.1],
    [0.3, 0.7],
  ],
  y: [0, 1, 1],
};

/** Bootstrap proposer: a state is the path x_1..x_t; a step samples the next state from the prior/transition. */
export const hmmProposer: Proposer<number[]> = {
  initial: () => [],
  propose: (path, { rng }) => {
    const probs = path.length === 0 ? HMM.prior : HMM.A[path[path.length - 1]];
    const u = rng.uniform(1)[0];
    return [...path, u < probs[0] ? 0 : 1];
  },
  done: (path) => path.length === HMM.y.length,
  answer: (path) => path.join(''),
};

/** The likelihood p(y_t | x_t) of the last step: the particle filter's weight. */
export const hmmLikelihood: Scorer<number[]> = (path) => HMM.B[path[path.length - 1]][HMM.y[path.length - 1]];

/** Exact posterior p(x_{1:T} | y_{1:T}) over all 2^T paths, by enumeration; index = path read as binary. */
export function hmmPosterior(): number[] {
  const T = HMM.y.length;
  const joint: number[] = [];
  for (let code = 0; code < 2 ** T; code++) {
    const x = Array.from({ length: T }, (_, t) => (code >> (T - 1 - t)) & 1);
    let p = HMM.prior[x[0]] * HMM.B[x[0]][HMM.y[0]];
    for (let t = 1; t < T; t++) p *= HMM.A[x[t - 1]][x[t]] * HMM.B[x[t]][HMM.y[t]];
    joint.push(p);
  }
  const z = joint.reduce((a, b) => a + b, 0);
  return joint.map((p) => p / z);
}

/** Path index (binary code) of a path. */
export const pathCode = (path: readonly number[]) => path.reduce((c, x) => 2 * c + x, 0);
