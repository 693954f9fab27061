import { fail, isArray } from '../util/check.js';
import type { CheckResult, Task, TaskItem } from './task.js';

export interface TaskEvaluation {
  taskId: string;
  seed: number;
  fingerprint: string;
  n: number;
  /** Fraction of items that pass. */
  passRate: number;
  /** Mean graded score. */
  meanScore: number;
  results: (CheckResult & { itemId: string })[];
}

/** Checks one output per item (same order as `task.items`) and aggregates. */
export async function evaluateTask<Item extends TaskItem, Output>(
  task: Task<Item, Output>,
  outputs: readonly Output[],
): Promise<TaskEvaluation> {
  if (!isArray(outputs) || outputs.length !== task.items.length) {
    fail(
      'evaluateTask',
      'outputs',
      `must have one output per item (${task.items.length}), got ${outputs?.length}`,
    );
  }
  if (task.items.length === 0) fail('evaluateTask', 'task.items', 'is empty');
  const results: TaskEvaluation['results'] = [];
  for (let i = 0; i < task.items.length; i++) {
    const item = task.items[i]!;
    const r = await task.check(item, outputs[i]!);
    results.push({ ...r, itemId: item.id });
  }
  const passRate = results.filter((r) => r.pass).length / results.length;
  const meanScore = results.reduce((s, r) => s + r.score, 0) / results.length;
  return {
    taskId: task.id,
    seed: task.seed,
    fingerprint: task.fingerprint,
    n: results.length,
    passRate,
    meanScore,
    results,
  };
}
