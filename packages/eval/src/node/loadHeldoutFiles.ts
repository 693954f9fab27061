import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceFile } from '../tasks/codeCompletion.js';
import { findRepoRoot } from './repoRoot.js';

// Reads the held-out Python files for the code-completion task (fixtures/corpus/heldout/*.py: CPython
// standard-library modules kept out of the fixture LMs' training set), sorted by name.

export function loadHeldoutFiles(
  options: { dir?: string; root?: string; extension?: string } = {},
): SourceFile[] {
  const dir = options.dir ?? join(options.root ?? findRepoRoot(), 'fixtures', 'corpus', 'heldout');
  const ext = options.extension ?? '.py';
  if (!existsSync(dir)) {
    throw new Error(`loadHeldoutFiles: options.dir ${dir} does not exist (build the corpus fixtures first)`);
  }
  const names = readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort();
  if (names.length === 0) throw new Error(`loadHeldoutFiles: no *${ext} files in ${dir}`);
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}
