// A task is data plus a checker. Items are generated deterministically from a seed (and, for
// data-backed tasks, from the given source texts), and the task carries a version: change how items are
// generated or checked and the version goes up, so results with the same `id` are comparable.

export type DetailValue = number | string | boolean | null;

export interface CheckResult {
  /** The item counts as solved. */
  pass: boolean;
  /** A graded score in [0, 1] (1 for a pass on binary tasks). */
  score: number;
  details?: Record<string, DetailValue>;
}

export interface TaskItem {
  /** Stable within a task id and seed, e.g. "arithmetic@1/s0/17". */
  id: string;
}

export interface Task<Item extends TaskItem, Output> {
  /** `${name}@${version}`. */
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly seed: number;
  /** FNV-1a fingerprint of the source data (and options), to tell runs on different data apart. */
  readonly fingerprint: string;
  readonly items: readonly Item[];
  check(item: Item, output: Output): CheckResult | Promise<CheckResult>;
}

export function taskId(name: string, version: number): string {
  return `${name}@${version}`;
}
