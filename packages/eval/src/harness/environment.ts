import type { Environment } from './schema.js';

// What can be learned about the runtime without importing Node modules (this file is isomorphic).
// The Node helper `collectEnvironment` (node.ts) adds the CPU model, memory and git commit.

export interface EnvironmentInput {
  backend?: string;
  adapter?: string;
  versions?: Record<string, string>;
}

interface MaybeGlobals {
  process?: { version?: string; versions?: { node?: string }; platform?: string; arch?: string };
  navigator?: { userAgent?: string; hardwareConcurrency?: number };
}

export function detectEnvironment(input: EnvironmentInput = {}): Environment {
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
