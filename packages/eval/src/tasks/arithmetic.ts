import { z } from 'zod';
import { fail, parseOptions } from '../util/check.js';
import { fnv1a } from '../util/fingerprint.js';
import { createRng } from '../util/seededRng.js';
import { type CheckResult, type Task, type TaskItem, taskId } from './task.js';

// Multi-step integer arithmetic with exact answers, e.g. "12+7*3-5=" -> 28 (the usual precedence:
// * before + and -, left to right). The kind of checkable problem test-time scaling is measured on
// (verifiable answer, several steps; cf. GSM8K-style "final answer" checking in Cobbe et al., arXiv
// 2110.14168). Each item carries the step-by-step reduction for process reward models.
// Version 1: operands uniform in [min, max], operators uniform from the allowed set.

export const ARITHMETIC_VERSION = 1;

const arithmeticOptions = z
  .object({
    seed: z.number().int().default(0),
    count: z.number().int().min(1).max(1_000_000).default(100),
    /** Binary operations per problem (operands = operations + 1). */
    operations: z.number().int().min(1).max(32).default(3),
    operandMin: z.number().int().min(0).default(1),
    operandMax: z.number().int().max(1_000_000).default(20),
    operators: z
      .array(z.enum(['+', '-', '*']))
      .min(1)
      .default(['+', '-', '*']),
  })
  .strict()
  .refine((o) => o.operandMin <= o.operandMax, {
    message: 'operandMin must be <= operandMax',
    path: ['operandMin'],
  });
export type ArithmeticOptions = z.input<typeof arithmeticOptions>;

export interface ArithmeticItem extends TaskItem {
  /** The problem as the model sees it, e.g. "12+7*3-5=". */
  prompt: string;
  answer: number;
  /** Reduction steps, e.g. ["12+21-5", "33-5", "28"]. */
  steps: string[];
}

export function arithmeticTask(options: ArithmeticOptions = {}): Task<ArithmeticItem, string> {
  const opts = parseOptions(arithmeticOptions, options, 'arithmeticTask');
  const rng = createRng(opts.seed);
  const id = taskId('arithmetic', ARITHMETIC_VERSION);
  const items: ArithmeticItem[] = [];
  const span = opts.operandMax - opts.operandMin + 1;
  for (let i = 0; i < opts.count; i++) {
    const nums = [opts.operandMin + rng.int(span)];
    const ops: string[] = [];
    for (let k = 0; k < opts.operations; k++) {
      ops.push(opts.operators[rng.int(opts.operators.length)]!);
      nums.push(opts.operandMin + rng.int(span));
    }
    const steps = reduce(nums, ops);
    items.push({
      id: `${id}/s${opts.seed}/${i}`,
      prompt: `${render(nums, ops)}=`,
      answer: Number(steps[steps.length - 1]),
      steps,
    });
  }
  return {
    id,
    name: 'arithmetic',
    version: ARITHMETIC_VERSION,
    seed: opts.seed,
    fingerprint: fnv1a([JSON.stringify(opts)]),
    items,
    check: checkArithmetic,
  };
}

export function checkArithmetic(item: ArithmeticItem, output: string): CheckResult {
  const parsed = parseFinalInteger(output);
  const pass = parsed !== null && parsed === item.answer;
  return { pass, score: pass ? 1 : 0, details: { parsed, expected: item.answer } };
}

/**
 * The model's final answer: the integer in the last \boxed{...}, else after the last "answer is" or
 * "####", else the last integer in the text. Thousands separators ("1,234") are accepted.
 */
export function parseFinalInteger(text: string): number | null {
  if (typeof text !== 'string') return null;
  const boxed = [...text.matchAll(/\\boxed\{\s*([-+−]?[\d,]+)\s*\}/g)];
  if (boxed.length > 0) return toInt(boxed[boxed.length - 1]![1]!);
  const marker = /(?:answer is|####)\s*:?\s*([-+−]?\d[\d,]*)/gi;
  const marked = [...text.matchAll(marker)];
  if (marked.length > 0) return toInt(marked[marked.length - 1]![1]!);
  const all = [...text.matchAll(/[-−]?\d(?:\d|,(?=\d{3}))*/g)];
  if (all.length === 0) return null;
  return toInt(all[all.length - 1]![0]);
}

function toInt(s: string): number | null {
  const v = Number(s.replace(/,/g, '').replace('−', '-'));
  return Number.isSafeInteger(v) ? v : null;
}

function render(nums: number[], ops: string[]): string {
  let s = String(nums[0]);
  for (let k = 0; k < ops.length; k++) s += `${ops[k]}${fmt(nums[k + 1]!)}`;
  return s;
}

function fmt(v: number): string {
  return v < 0 ? `(${v})` : String(v);
}

/** Reduces one operation at a time (first *, else the leftmost + or -), recording each expression. */
function reduce(nums0: number[], ops0: string[]): string[] {
  const nums = [...nums0];
  const ops = [...ops0];
  const steps: string[] = [];
  while (ops.length > 0) {
    let k = ops.indexOf('*');
    if (k < 0) k = 0;
    const a = nums[k]!;
    const b = nums[k + 1]!;
    const v = ops[k] === '*' ? a * b : ops[k] === '+' ? a + b : a - b;
    if (!Number.isSafeInteger(v)) {
      fail(
        'arithmeticTask',
        'options',
        `give values beyond 2^53 (${render(nums0, ops0)}); lower operandMax or operations`,
      );
    }
    nums.splice(k, 2, v);
    ops.splice(k, 1);
    steps.push(ops.length === 0 ? String(v) : render(nums, ops));
  }
  return steps;
}
