import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { detectEnvironment, environmentInputSchema } from '../harness/environment.js';
import type { Environment } from '../harness/schema.js';
import { parseOptions } from '../util/check.js';
import { gitCommit, gitDirty } from './git.js';
import { findRepoRoot } from './repoRoot.js';

// The full environment record in Node: CPU model and cores, memory, Node version, git commit, the
// backend/adapter string from the caller, and package versions (the caller's plus those of the named
// workspace packages, read from packages/<name>/package.json).

const collectOptions = environmentInputSchema
  .extend({
    /** Repository root (default: found from the cwd). */
    root: z.string().min(1).optional(),
    /** Workspace packages whose versions to record, e.g. ['eval', 'decoding']. */
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a package folder name')).optional(),
  })
  .strict();
export type CollectEnvironmentOptions = z.input<typeof collectOptions>;

export function collectEnvironment(options: CollectEnvironmentOptions = {}): Environment {
  const {
    root: rootOption,
    packages,
    ...input
  } = parseOptions(collectOptions, options, 'collectEnvironment');
  const root = rootOption ?? findRepoRoot();
  const env = detectEnvironment(input);
  const cpuList = cpus();
  const versions: Record<string, string> = {};
  for (const name of packages ?? []) {
    const file = join(root, 'packages', name, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name && pkg.version) versions[pkg.name] = pkg.version;
    } catch {
      // a broken package.json is not the benchmark's problem
    }
  }
  return {
    ...env,
    cpu: cpuList[0]?.model?.trim() || null,
    cores: cpuList.length || env.cores,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    versions: { ...versions, ...env.versions },
    gitCommit: gitCommit(root),
    gitDirty: gitDirty(root),
  };
}
