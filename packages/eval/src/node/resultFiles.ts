import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type BenchResult, parseBenchResult, serializeBenchResult } from '../harness/schema.js';
import { gitShow } from './git.js';
import { findRepoRoot } from './repoRoot.js';

// Result files on disk: <root>/bench-results/<package>/<bench>.json, validated on write and on read.

export function resultPath(result: Pick<BenchResult, 'package' | 'bench'>, root = findRepoRoot()): string {
  return join(root, 'bench-results', result.package, `${result.bench}.json`);
}

/** Writes the result (validated) and returns the path. `path` overrides the default location. */
export function writeBenchResult(
  result: BenchResult,
  options: { root?: string; path?: string } = {},
): string {
  const file = options.path ?? resultPath(result, options.root);
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

/** The version of a result file in a git revision (default HEAD), or null if it is not committed there. */
export function readCommittedResult(
  file: string,
  options: { rev?: string; root?: string } = {},
): BenchResult | null {
  const root = options.root ?? findRepoRoot(dirname(resolve(file)));
  const text = gitShow(options.rev ?? 'HEAD', relative(root, resolve(file)), root);
  if (text === null) return null;
  return parseBenchResult(JSON.parse(text), `${options.rev ?? 'HEAD'}:${relative(root, resolve(file))}`);
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

/** Reads every valid result under a folder; files that are not results are listed in `skipped`. */
export function readResultsDir(dir: string): { results: BenchResult[]; files: string[]; skipped: string[] } {
  const results: BenchResult[] = [];
  const files: string[] = [];
  const skipped: string[] = [];
  for (const f of listResultFiles(dir)) {
    try {
      results.push(readBenchResult(f));
      files.push(f);
    } catch (e) {
      skipped.push(`${f}: ${(e as Error).message.slice(0, 200)}`);
    }
  }
  return { results, files, skipped };
}
