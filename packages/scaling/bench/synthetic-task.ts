/**
 * A SYNTHETIC multi-step task with plain functions (no model), for the scaling bench: query q is
 * solved in STEPS steps, each correct with probability p_q (its difficulty) while the prefix is
 * correct; the first error fixes one of three wrong final answers (probabilities 0.5, 0.3, 0.2), so a
 * consistent wrong answer is common and majority voting can fail. The process reward of a prefix is
 * sigmoid(2·(prefix correct ? 1 : −1) + 1.5·ε), ε ~ N(0, 1) drawn with the step: informative but
 * noisy. The outcome reward is the process reward of the final prefix.
 */
import { rng } from '@hasten/core-tensor';
import type { Proposer, Scorer } from '../src/index';

export const STEPS = 4;

export interface TaskState {
  /** Whether the prefix is still correct after each step. */
  ok: boolean[];
  /** Process-reward noise of each step. */
  noise: number[];
  wrong?: number;
}

export interface TaskQuery {
  p: number;
  proposer: Proposer<TaskState>;
  prm: Scorer<TaskState>;
}

const WRONG = [0.5, 0.8]; // cumulative: wrong answer 0 w.p. 0.5, 1 w.p. 0.3, 2 w.p. 0.2

export function makeQuery(p: number): TaskQuery {
  const proposer: Proposer<TaskState> = {
    initial: () => ({ ok: [], noise: [] }),
    propose(s, { rng: r }) {
      const [u, w] = r.uniform(2);
      const [e] = r.normal(1);
      const prevOk = s.ok.length === 0 || s.ok[s.ok.length - 1];
      const ok = prevOk && u < p;
      const wrong = s.wrong ?? (ok ? undefined : w < WRONG[0] ? 0 : w < WRONG[1] ? 1 : 2);
      return { ok: [...s.ok, ok], noise: [...s.noise, e], ...(wrong === undefined ? {} : { wrong }) };
    },
    done: (s) => s.ok.length >= STEPS,
    answer: (s) => (s.ok[s.ok.length - 1] ? 'correct' : `wrong-${s.wrong}`),
  };
  const prm: Scorer<TaskState> = (s) => {
    if (s.ok.length === 0) return 0.5;
    const t = s.ok.length - 1;
    return 1 / (1 + Math.exp(-(2 * (s.ok[t] ? 1 : -1) + 1.5 * s.noise[t])));
  };
  return { p, proposer, prm };
}

/** `n` queries with per-step success probabilities spread over [0.35, 0.95]. */
export function makeQueries(n: number, seed: number): TaskQuery[] {
  const u = rng(seed).uniform(n);
  return Array.from(u, (v) => makeQuery(0.35 + 0.6 * v));
}
