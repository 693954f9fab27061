import { describe, expect, it } from 'vitest';
import {
  add,
  CpuBackend,
  exp,
  getBackend,
  getDefaultBackend,
  getKernel,
  hasKernel,
  listBackends,
  listKernels,
  registerBackend,
  registerKernel,
  setDefaultBackend,
  tensor,
} from './index';

describe('registry', () => {
  it('throws on a duplicate kernel or backend', () => {
    expect(() => registerKernel({ op: 'exp', backend: 'cpu', fn: () => [] })).toThrow(
      /registerKernel: a kernel for op 'exp' on backend 'cpu' is already registered/,
    );
    expect(() => registerBackend(new CpuBackend('cpu'))).toThrow(
      /registerBackend: backend 'cpu' is already registered/,
    );
  });

  it('validates registrations: names, kernel functions and the backend contract', () => {
    expect(() => registerKernel({ op: '', backend: 'cpu', fn: () => [] })).toThrow(
      /registerKernel: 'op' is invalid/,
    );
    expect(() => registerKernel({ op: 'x', backend: 'cpu', fn: () => [], priority: 1 } as never)).toThrow(
      /registerKernel: 'argument' is invalid: Unrecognized key: "priority"; allowed: op, backend, fn/,
    );
    expect(() => registerKernel({ op: 'x', backend: 'cpu', fn: 42 as never })).toThrow(
      /registerKernel: 'fn' is invalid: expected a kernel function/,
    );
    const noRead = { name: 'no-read', alloc() {}, write() {}, free() {}, sync() {}, describe() {} };
    expect(() => registerBackend(noRead as never)).toThrow(
      /registerBackend: 'read' is invalid: expected a method read\(\)/,
    );
    expect(listBackends()).not.toContain('no-read');
    // Names cannot collide through the key: ('b/c', 'a') and ('c', 'a/b') are different kernels.
    const f1 = () => [];
    const f2 = () => [];
    registerKernel({ op: 'b/c', backend: 'registry-test-a', fn: f1 });
    registerKernel({ op: 'c', backend: 'registry-test-a/b', fn: f2 });
    expect(getKernel('b/c', 'registry-test-a').fn).toBe(f1);
    expect(getKernel('c', 'registry-test-a/b').fn).toBe(f2);
  });

  it('registers every reference kernel on both CPU backends', () => {
    const ref = listKernels('reference')
      .map((k) => k.op)
      .sort();
    const cpu = listKernels('cpu')
      .map((k) => k.op)
      .sort();
    expect(cpu).toEqual(ref);
    for (const op of [
      'exp',
      'sum',
      'softmax',
      'rmsnorm',
      'rope',
      'sdpa',
      'embedding',
      'concat',
      'where',
      'topk',
      'cumsum',
      'matmul',
    ]) {
      expect(ref, op).toContain(op);
    }
    expect(listBackends()).toEqual(expect.arrayContaining(['cpu', 'reference']));
  });

  it('a backend may implement a subset of ops; missing ones fail with a clear message', async () => {
    const partial = new CpuBackend('cpu');
    Object.defineProperty(partial, 'name', { value: 'partial-test' });
    registerBackend(partial);
    let calls = 0;
    const cpuExp = getKernel('exp', 'cpu').fn;
    registerKernel({
      op: 'exp',
      backend: 'partial-test',
      fn: (inputs, attrs, backend) => {
        calls++;
        return cpuExp(inputs, attrs, backend);
      },
    });
    expect(hasKernel('exp', 'partial-test')).toBe(true);
    expect(hasKernel('log', 'partial-test')).toBe(false);
    const x = tensor([0, 1], [2], { device: 'partial-test' });
    const y = exp(x);
    expect(calls).toBe(1);
    expect(y.device).toBe('partial-test');
    expect(await y.array()).toEqual([1, Math.fround(Math.E)]);
    expect(() => getKernel('log', 'partial-test')).toThrow(
      /op 'log' has no kernel on backend 'partial-test' \(available on: (cpu, reference|reference, cpu)\)/,
    );
    expect(() => getKernel('no-such-op', 'cpu')).toThrow(/\(no backend implements it\)/);
  });

  it('refuses inputs on different backends and unknown backends', () => {
    const a = tensor([1, 2]);
    const b = tensor([1, 2], [2], { device: 'reference' });
    expect(() => getBackend('nope')).toThrow(/unknown backend 'nope'; registered: /);
    expect(() => setDefaultBackend('nope')).toThrow(/unknown backend 'nope'/);
    expect(() => add(a, b)).toThrow(
      /add: inputs are on different backends \(\[2\] on cpu, \[2\] on reference\)/,
    );
  });

  it('setDefaultBackend changes where new tensors live', () => {
    const before = getDefaultBackend();
    setDefaultBackend('reference');
    try {
      expect(tensor([1]).device).toBe('reference');
    } finally {
      setDefaultBackend(before);
    }
    expect(tensor([1]).device).toBe(before);
  });
});
