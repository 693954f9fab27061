import type { z } from 'zod';

// Shared input checks. Every public entry point validates its input and throws an Error that names the
// function, the field and what is allowed, so nothing fails silently and no NaN leaks out.

/** Throws `Error("<where>: <field> <message>")`. */
export function fail(where: string, field: string, message: string): never {
  throw new Error(`${where}: ${field} ${message}`);
}

/**
 * Parses an options object with a zod schema; the error lists each bad field and why. `root` names the
 * argument in the message ("options" by default).
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  root = 'options',
): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `${root}.${issue.path.map(String).join('.')}` : root;
    return `${field}: ${issue.message}`;
  });
  throw new Error(`${where}: invalid ${lines.join('; ')}`);
}

export function checkInteger(where: string, field: string, value: unknown, min = 0, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail(where, field, `must be an integer (got ${describe(value)})`);
  }
  if (value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    fail(where, field, `must be ${range} (got ${value})`);
  }
  return value;
}

export function checkFiniteNumber(where: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(where, field, `must be a finite number (got ${describe(value)})`);
  }
  return value;
}

export function checkPositive(where: string, field: string, value: unknown): number {
  const v = checkFiniteNumber(where, field, value);
  if (v <= 0) fail(where, field, `must be > 0 (got ${v})`);
  return v;
}

/** Checks an array-like of finite numbers, optionally of an exact length and a minimum length. */
export function checkFiniteArray(
  where: string,
  field: string,
  values: unknown,
  opts: { length?: number; minLength?: number } = {},
): ArrayLike<number> {
  if (
    values === null ||
    typeof values !== 'object' ||
    typeof (values as ArrayLike<number>).length !== 'number'
  ) {
    fail(where, field, `must be an array of numbers (got ${describe(values)})`);
  }
  const arr = values as ArrayLike<number>;
  if (opts.length !== undefined && arr.length !== opts.length) {
    fail(where, field, `must have length ${opts.length} (got ${arr.length})`);
  }
  if (opts.minLength !== undefined && arr.length < opts.minLength) {
    fail(where, field, `must have at least ${opts.minLength} element(s) (got ${arr.length})`);
  }
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail(where, `${field}[${i}]`, `must be a finite number (got ${describe(v)})`);
    }
  }
  return arr;
}

/** Returns `value` if finite, else throws: the last guard before a metric returns. */
export function finiteResult(where: string, value: number, what = 'result'): number {
  if (Number.isNaN(value))
    throw new Error(`${where}: ${what} is NaN (check the inputs for degenerate values)`);
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

/** Array test that does not narrow (Array.isArray narrows readonly T[] to any[] and loses the type). */
export function isArray(value: unknown): boolean {
  return Array.isArray(value);
}
