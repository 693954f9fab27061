import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SourceFile } from '../tasks/codeCompletion.js';
import { parseOptions } from '../util/check.js';
import { findRepoRoot } from './repoRoot.js';

// Reads the held-out Python files for the code-completion task (fixtures/corpus/heldout/*.py: CPython
// standard-library modules kept out of the fixture LMs' training set), sorted by name.

const heldoutOptions = z
  .object({
    /** Folder of source files (default <root>/fixtures/corpus/heldout). */
    dir: z.string().min(1).optional(),
    root: z.string().min(1).optional(),
    extension: z
      .string()
      .regex(/^\.[A-Za-z0-9]+$/, 'must look like ".py"')
      .default('.py'),
  })
  .strict();
export type LoadHeldoutOptions = z.input<typeof heldoutOptions>;

export function loadHeldoutFiles(options: LoadHeldoutOptions = {}): SourceFile[] {
  const opts = parseOptions(heldoutOptions, options, 'loadHeldoutFiles');
  const dir = opts.dir ?? join(opts.root ?? findRepoRoot(), 'fixtures', 'corpus', 'heldout');
  const ext = opts.extension;
  if (!existsSync(dir)) {
    throw new Error(`loadHeldoutFiles: options.dir ${dir} does not exist (build the corpus fixtures first)`);
  }
  const names = readdirSync(dir)
    .filter((n) => n.endsWith(ext))
    .sort();
  if (names.length === 0) throw new Error(`loadHeldoutFiles: no *${ext} files in ${dir}`);
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}
