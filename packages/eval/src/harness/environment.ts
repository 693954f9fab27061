import { z } from 'zod';
import { parseOptions } from '../util/check.js';
import type { Environment } from './schema.js';

// What can be learned about the runtime without importing Node modules (this file is isomorphic).
// The Node helper `collectEnvironment` (node.ts) adds the CPU model, memory and git commit.

export const environmentInputSchema = z
  .object({
    /** Compute backend, e.g. "cpu", "webgpu", "cuda". */
    backend: z.string().min(1).optional(),
    /** Adapter / device, e.g. a GPU name. */
    adapter: z.string().min(1).optional(),
    /** Versions of what the benchmark ran on, e.g. { 'onnxruntime-node': '1.30.0' }. */
    versions: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type EnvironmentInput = z.input<typeof environmentInputSchema>;

interface MaybeGlobals {
  process?: { version?: string; versions?: { node?: string }; platform?: string; arch?: string };
  navigator?: { userAgent?: string; hardwareConcurrency?: number };
}

export function detectEnvironment(options: EnvironmentInput = {}): Environment {
  const input = parseOptions(environmentInputSchema, options, 'detectEnvironment');
  const g = globalThis as MaybeGlobals;
  const isNode = typeof g.process?.versions?.node === 'string';
  return {
    runtime: isNode ? `node ${g.process!.version}` : (g.navigator?.userAgent ?? 'unknown'),
    platform: isNode ? `${g.process!.platform} ${g.process!.arch}` : null,
    cpu: null,
    cores: g.navigator?.hardwareConcurrency ?? null,
    memoryGiB: null,
    backend: input.backend ?? null,
    adapter: input.adapter ?? null,
    versions: { ...(input.versions ?? {}) },
    gitCommit: null,
    gitDirty: null,
  };
}
