import type { BenchmarkDefinition } from '../harness/benchmark.js';
import { formatResultTable } from '../harness/formatResultTable.js';
import { runBenchmark } from '../harness/runBenchmark.js';
import type { BenchResult } from '../harness/schema.js';
import { collectEnvironment } from './collectEnvironment.js';
import { createProgressBar } from './progressBar.js';
import { findRepoRoot } from './repoRoot.js';
import { writeBenchResult } from './resultFiles.js';

// What a package's bench/run.ts calls: run the benchmark with the Node environment record and a progress
// bar, print the speed/quality table, write bench-results/<package>/<bench>.json.

export interface RunAndWriteOptions {
  root?: string;
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  warmup?: number;
  repeats?: number;
  /** Write the JSON file (default true). */
  write?: boolean;
  /** Where to print the table (default console.log). Pass null to stay quiet. */
  log?: ((text: string) => void) | null;
}

export async function runAndWrite(
  definition: BenchmarkDefinition,
  options: RunAndWriteOptions = {},
): Promise<{ result: BenchResult; path: string | null }> {
  const root = options.root ?? findRepoRoot();
  const environment = collectEnvironment({
    ...definition.environment,
    root,
    packages: [...new Set(['eval', definition.package])],
  });
  const bar = (options.progress ?? process.stderr.isTTY === true) ? createProgressBar() : null;
  let result: BenchResult;
  try {
    result = await runBenchmark(definition, {
      environment,
      ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
      ...(options.warmup === undefined ? {} : { warmup: options.warmup }),
      ...(options.repeats === undefined ? {} : { repeats: options.repeats }),
    });
  } finally {
    bar?.stop();
  }
  const path = options.write === false ? null : writeBenchResult(result, { root });
  const log = options.log === undefined ? console.log : options.log;
  log?.(`${formatResultTable(result)}${path ? `\nwrote ${path}` : ''}`);
  return { result, path };
}
