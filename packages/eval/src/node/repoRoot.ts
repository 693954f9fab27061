import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// The monorepo root: the nearest folder upwards with a package.json that declares workspaces (else the
// nearest with .git, else the start folder). bench-results/ and fixtures/ live there, so a benchmark run
// from packages/x writes to the same place as one run from the root.

export function findRepoRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  let gitDir: string | null = null;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    if (gitDir === null && existsSync(join(dir, '.git'))) gitDir = dir;
    const parent = dirname(dir);
    if (parent === dir) return gitDir ?? resolve(start);
    dir = parent;
  }
}
