import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { type BenchResult, parseBenchResult, serializeBenchResult } from '../harness/schema.js';
import { parseOptions } from '../util/check.js';
import { gitShow } from './git.js';
import { findRepoRoot } from './repoRoot.js';

// Result files on disk: <root>/bench-results/<package>/<bench>.json, validated on write and on read.

export function resultPath(result: Pick<BenchResult, 'package' | 'bench'>, root = findRepoRoot()): string {
  return join(root, 'bench-results', result.package, `${result.bench}.json`);
}

const writeOptions = z
  .object({ root: z.string().min(1).optional(), path: z.string().endsWith('.json').optional() })
  .strict();

/** Writes the result (validated) and returns the path. `path` overrides the default location. */
export function writeBenchResult(result: BenchResult, options: z.input<typeof writeOptions> = {}): string {
  const opts = parseOptions(writeOptions, options, 'writeBenchResult');
  const file = opts.path ?? resultPath(parseBenchResult(result, 'writeBenchResult: result'), opts.root);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, serializeBenchResult(result));
  return file;
}

export function readBenchResult(file: string): BenchResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`readBenchResult: cannot read ${file}: ${(e as Error).message}`);
  }
  return parseBenchResult(json, file);
}

const committedOptions = z
  .object({
    /** A git revision: HEAD, a branch, a tag or a commit (no leading "-", so it is never an option). */
    rev: z
      .string()
      .regex(/^[^-\s][^\s]*$/, 'must be a git revision such as HEAD or main~1')
      .default('HEAD'),
    root: z.string().min(1).optional(),
  })
  .strict();

/** The version of a result file in a git revision (default HEAD), or null if it is not committed there. */
export function readCommittedResult(
  file: string,
  options: z.input<typeof committedOptions> = {},
): BenchResult | null {
  const { rev, root: rootOption } = parseOptions(committedOptions, options, 'readCommittedResult');
  const root = rootOption ?? findRepoRoot(dirname(resolve(file)));
  const text = gitShow(rev, relative(root, resolve(file)), root);
  if (text === null) return null;
  return parseBenchResult(JSON.parse(text), `${rev}:${relative(root, resolve(file))}`);
}

/** All *.json files under a folder, recursively, in sorted order. */
export function listResultFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.json') && !entry.name.endsWith('.tmp.json'))
        out.push(p);
    }
  };
  walk(dir);
  return out;
}

export interface SkippedFile {
  file: string;
  /** Why it is not a result: "not a hasten.bench/1 result (<first bad fields>)" or the read error. */
  why: string;
}

/** Reads every valid result under a folder; files that are not results are listed in `skipped`. */
export function readResultsDir(dir: string): {
  results: BenchResult[];
  files: string[];
  skipped: SkippedFile[];
} {
  const results: BenchResult[] = [];
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const f of listResultFiles(dir)) {
    try {
      results.push(readBenchResult(f));
      files.push(f);
    } catch (e) {
      const message = (e as Error).message;
      const i = message.indexOf('not a valid');
      skipped.push({ file: f, why: (i >= 0 ? message.slice(i) : message).slice(0, 160) });
    }
  }
  return { results, files, skipped };
}
