/**
 * @file The kernel registry: one kernel per (op, backend) key. Registering a key twice throws
 * (tfjs's registerKernel does the same), so two packages can never silently shadow each other.
 * Registrations are validated (zod): names are non-empty strings, kernels are functions, and a
 * backend has every method of the Backend contract.
 */
import { z } from 'zod';
import type { Backend } from './backend';
import { listAllowedKeys } from './options';
import type { Tensor } from './tensor';

/**
 * A kernel gets its inputs (same backend, any strides), the op's attributes, and its backend.
 * The default `A` is `any` on purpose: a table of kernels holds functions of different attribute
 * types, and `unknown` would make them unassignable (parameters are contravariant).
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type KernelFn<A = any> = (inputs: Tensor[], attrs: A, backend: Backend) => Tensor | Tensor[];

// biome-ignore lint/suspicious/noExplicitAny: as KernelFn
export interface KernelConfig<A = any> {
  op: string;
  backend: string;
  fn: KernelFn<A>;
}

const kernels = new Map<string, KernelConfig>();
const backends = new Map<string, Backend>();
let defaultBackend = 'cpu';

// A separator no op or backend name may contain, so (op, backend) pairs never collide as strings.
const key = (op: string, backend: string) => `${backend}\u0000${op}`;
const NAME = z
  .string()
  .min(1)
  .refine((s) => !s.includes('\u0000'), 'must not contain a NUL character');

const KernelConfigSchema = z.strictObject({
  op: NAME,
  backend: NAME,
  fn: z.custom<KernelFn>((f) => typeof f === 'function', 'expected a kernel function'),
});

const BACKEND_METHODS = ['alloc', 'write', 'read', 'free', 'sync', 'describe'] as const;
const BackendSchema = z.object({
  name: NAME,
  ...Object.fromEntries(
    BACKEND_METHODS.map((m) => [m, z.custom((f) => typeof f === 'function', `expected a method ${m}()`)]),
  ),
});

function validate(where: string, schema: z.ZodType, value: unknown): void {
  const r = schema.safeParse(value, { error: listAllowedKeys });
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${where}: '${issue.path.join('.') || 'argument'}' is invalid: ${issue.message}`);
  }
}

export function registerKernel<A>(config: KernelConfig<A>): void {
  validate('registerKernel', KernelConfigSchema, config);
  const k = key(config.op, config.backend);
  if (kernels.has(k)) {
    throw new Error(
      `registerKernel: a kernel for op '${config.op}' on backend '${config.backend}' is already registered`,
    );
  }
  kernels.set(k, config as KernelConfig);
}

export function getKernel(op: string, backend: string): KernelConfig {
  const k = kernels.get(key(op, backend));
  if (!k) {
    const known = [...kernels.values()].filter((c) => c.op === op).map((c) => c.backend);
    throw new Error(
      `op '${op}' has no kernel on backend '${backend}'` +
        (known.length ? ` (available on: ${known.join(', ')})` : ' (no backend implements it)'),
    );
  }
  return k;
}

export function hasKernel(op: string, backend: string): boolean {
  return kernels.has(key(op, backend));
}

/** Kernels registered for a backend, for coverage reports and tests. */
export function listKernels(backend?: string): KernelConfig[] {
  return [...kernels.values()].filter((c) => backend === undefined || c.backend === backend);
}

export function registerBackend(backend: Backend): void {
  validate('registerBackend', BackendSchema, backend);
  if (backends.has(backend.name)) {
    throw new Error(`registerBackend: backend '${backend.name}' is already registered`);
  }
  backends.set(backend.name, backend);
}

export function getBackend(name: string = defaultBackend): Backend {
  const b = backends.get(name);
  if (!b) {
    throw new Error(`unknown backend '${name}'; registered: ${[...backends.keys()].join(', ') || '(none)'}`);
  }
  return b;
}

export function hasBackend(name: string): boolean {
  return backends.has(name);
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

/** The backend new tensors are created on when none is named. */
export function setDefaultBackend(name: string): void {
  getBackend(name);
  defaultBackend = name;
}

export function getDefaultBackend(): string {
  return defaultBackend;
}
