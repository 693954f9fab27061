/**
 * @file What a run records: every candidate (one node of the search: a particle at a step, a beam, a
 * sample, a noise), its score, weight and fate, every decision (resampling, pruning, stopping,
 * budget allocation), and the budget spent. The trace is the run's result.
 */
import type { BudgetUnit } from './budget';

export type CandidateStatus =
  | 'active' // still being extended
  | 'complete' // final (done) and kept
  | 'pruned' // dropped by selection or pruning
  | 'discarded'; // paid for but not considered (generated after an early stop)

export interface Candidate<S> {
  id: number;
  /** The candidate this one was proposed from or copied from (resampling), if any. */
  parent?: number;
  /** Search depth (step index) or generation / iteration. */
  step: number;
  state: S;
  /** Latest score from the scorer (undefined until scored). */
  score?: number;
  /** Every score this lineage received, oldest first (PRM step scores). */
  scores?: number[];
  /** Log-weight (particle methods) and normalised weight at the candidate's step. */
  logWeight?: number;
  weight?: number;
  answer?: string;
  status: CandidateStatus;
}

export interface Decision {
  step: number;
  /** e.g. 'resample', 'select', 'prune', 'stop', 'allocate', 'temper', 'accept'. */
  kind: string;
  detail: Record<string, unknown>;
}

export interface Trace<S> {
  strategy: string;
  unit: BudgetUnit;
  budget: number;
  /** Units spent (proposer calls' costs; scorer calls for 'cost' is up to the caller). */
  spent: number;
  seed: number;
  calls: { propose: number; score: number };
  candidates: Candidate<S>[];
  decisions: Decision[];
  /** The selected candidate's id (argmax score, vote winner, ...), if any. */
  best?: number;
  /** The selected answer (vote winner) when the strategy votes. */
  answer?: string;
  aborted: boolean;
}

export type StrategyEvent<S> =
  | {
      type: 'progress';
      step: number;
      spent: number;
      budget: number;
      /** Candidates alive at this point. */
      active: number;
      bestScore?: number;
    }
  | { type: 'done'; trace: Trace<S> };

/** The selected candidate of a finished trace. */
export function bestCandidate<S>(trace: Trace<S>): Candidate<S> | undefined {
  return trace.best === undefined ? undefined : trace.candidates[trace.best];
}
