/**
 * @file `scope(fn)`: every tensor created while `fn` runs is disposed when it returns, except the
 * tensors it returns (found in arrays and plain objects) and those passed to `keep`. Scopes nest;
 * kept tensors move to the enclosing scope.
 *
 * `scopeAsync` does the same for async functions. Do not interleave two `scopeAsync` calls
 * (await one before starting another): scopes are a stack, not per async context.
 */
import type { Tensor } from './tensor';

const stack: Set<Tensor>[] = [];
const kept = new WeakSet<Tensor>();

export function trackTensor(t: Tensor): void {
  if (stack.length) stack[stack.length - 1].add(t);
}

/** Exempt a tensor from disposal by the enclosing scopes. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collect(v, out, seen);
  }
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'strides' in v && 'dispose' in v && 'shape' in v;
}

function close(frame: Set<Tensor>, result: unknown): void {
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const at = stack.lastIndexOf(frame);
  stack.splice(at, 1);
  const parent = stack[at - 1];
  for (const t of frame) {
    if (survivors.has(t) || kept.has(t)) parent?.add(t);
    else t.dispose();
  }
}

export function scope<T>(fn: () => T): T {
  const frame = new Set<Tensor>();
  stack.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(frame, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    close(frame, undefined);
    throw new Error('scope: fn returned a Promise; use scopeAsync for async functions');
  }
  close(frame, result);
  return result;
}

export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const frame = new Set<Tensor>();
  stack.push(frame);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    close(frame, undefined);
    throw e;
  }
  close(frame, result);
  return result;
}
