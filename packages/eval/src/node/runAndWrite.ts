import { z } from 'zod';
import type { BenchmarkDefinition } from '../harness/benchmark.js';
import { formatResultTable } from '../harness/formatResultTable.js';
import { runBenchmark } from '../harness/runBenchmark.js';
import type { BenchResult } from '../harness/schema.js';
import { parseOptions } from '../util/check.js';
import { collectEnvironment } from './collectEnvironment.js';
import { createProgressBar } from './progressBar.js';
import { findRepoRoot } from './repoRoot.js';
import { writeBenchResult } from './resultFiles.js';

// What a package's bench/run.ts calls: run the benchmark with the Node environment record and a progress
// bar, print the speed/quality table, write bench-results/<package>/<bench>.json.

const runAndWriteOptions = z
  .object({
    /** Repository root that holds bench-results/ (default: found from the cwd). */
    root: z.string().min(1).optional(),
    /** Show a progress bar on stderr (default: when stderr is a TTY). */
    progress: z.boolean().optional(),
    warmup: z.number().int().min(0).optional(),
    repeats: z.number().int().min(1).optional(),
    /** Write the JSON file (default true). */
    write: z.boolean().default(true),
    /** Where to print the table (default console.log). Pass null to stay quiet. */
    log: z
      .custom<(text: string) => void>((v) => typeof v === 'function', {
        message: 'must be a function or null',
      })
      .nullable()
      .optional(),
  })
  .strict();
export type RunAndWriteOptions = z.input<typeof runAndWriteOptions>;

export async function runAndWrite(
  definition: BenchmarkDefinition,
  options: RunAndWriteOptions = {},
): Promise<{ result: BenchResult; path: string | null }> {
  const opts = parseOptions(runAndWriteOptions, options, 'runAndWrite');
  const root = opts.root ?? findRepoRoot();
  const environment = collectEnvironment({
    ...definition.environment,
    root,
    packages: [...new Set(['eval', definition.package])],
  });
  const bar = (opts.progress ?? process.stderr.isTTY === true) ? createProgressBar() : null;
  let result: BenchResult;
  try {
    result = await runBenchmark(definition, {
      environment,
      ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
      ...(opts.warmup === undefined ? {} : { warmup: opts.warmup }),
      ...(opts.repeats === undefined ? {} : { repeats: opts.repeats }),
    });
  } finally {
    bar?.stop();
  }
  const path = opts.write ? writeBenchResult(result, { root }) : null;
  const log = opts.log === undefined ? console.log : opts.log;
  log?.(`${formatResultTable(result)}${path ? `\nwrote ${path}` : ''}`);
  return { result, path };
}
