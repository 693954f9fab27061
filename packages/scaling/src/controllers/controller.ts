/**
 * @file The controller contract: across a set of queries, decide which query the next unit of
 * budget (one complete sample) goes to, from the scores and answers seen so far; `undefined` stops
 * the allocation early. Decisions are recorded in the trace with the controller's reason.
 */
export interface QueryStats {
  index: number;
  /** Samples drawn or in flight. */
  samples: number;
  answers: string[];
  scores: number[];
}

export interface Pick {
  query: number;
  reason: string;
}

export interface Controller {
  readonly name: string;
  next(queries: readonly QueryStats[], spent: number, budget: number): Pick | undefined;
}

/** The query with the fewest samples among `candidates` (lowest index on ties). */
export function leastSampled(queries: readonly QueryStats[]): QueryStats | undefined {
  let best: QueryStats | undefined;
  for (const q of queries) if (!best || q.samples < best.samples) best = q;
  return best;
}
