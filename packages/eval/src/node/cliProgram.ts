import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { BenchmarkDefinition } from '../harness/benchmark.js';
import { compareResults, formatComparison } from '../harness/compareResults.js';
import type { BenchResult } from '../harness/schema.js';
import { findRepoRoot } from './repoRoot.js';
import { listResultFiles, readBenchResult, readCommittedResult } from './resultFiles.js';
import { runAndWrite } from './runAndWrite.js';
import { writeReport } from './writeReport.js';

// The `hasten-bench` program (commander). Kept apart from src/cli.ts so tests drive it in-process:
// runCli(argv, io) returns the exit code instead of calling process.exit.

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  /** Progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  cwd: process.cwd(),
};

export async function runCli(argv: readonly string[], ioIn: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo, ...ioIn };
  let code = 0;
  const program = new Command('hasten-bench')
    .description('Run Hasten benchmarks, render reports with SVG plots, and compare results across runs.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('run')
    .description('run bench modules (each default-exports a benchmark definition or an array of them)')
    .argument('<files...>', 'bench module files (.ts needs tsx: npx tsx packages/eval/src/cli.ts run ...)')
    .option('--root <dir>', 'repository root that holds bench-results/ (default: found from the cwd)')
    .option('--warmup <n>', 'override warm-up rounds', toInt)
    .option('--repeats <n>', 'override measured rounds', toInt)
    .option('--no-write', 'do not write result JSON')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        files: string[],
        opts: { root?: string; warmup?: number; repeats?: number; write: boolean; progress: boolean },
      ) => {
        const root = opts.root ? resolve(io.cwd, opts.root) : findRepoRoot(io.cwd);
        for (const file of files) {
          for (const def of await loadDefinitions(resolve(io.cwd, file))) {
            await runAndWrite(def, {
              root,
              progress: opts.progress && (io.progress ?? process.stderr.isTTY === true),
              write: opts.write,
              log: io.out,
              ...(opts.warmup === undefined ? {} : { warmup: opts.warmup }),
              ...(opts.repeats === undefined ? {} : { repeats: opts.repeats }),
            });
          }
        }
      },
    );

  program
    .command('report')
    .description('render a Markdown report with SVG plots from result JSON files')
    .option('--in <dir>', 'folder of result JSON files', 'bench-results')
    .option(
      '--out <file>',
      'Markdown file to write (plots go to plots/ beside it)',
      'bench-results/REPORT.md',
    )
    .option('--title <title>', 'report title', 'Benchmark report')
    .action(async (opts: { in: string; out: string; title: string }) => {
      const root = findRepoRoot(io.cwd);
      const inDir = resolveFrom(io.cwd, root, opts.in);
      const outFile = resolveFrom(io.cwd, root, opts.out);
      // Recorded in the report: the command that reproduces it, with paths relative to the repository.
      const rel = (p: string) => relative(root, p).split('\\').join('/') || '.';
      const command = `hasten-bench report --in ${rel(inDir)} --out ${rel(outFile)}${
        opts.title === 'Benchmark report' ? '' : ` --title ${JSON.stringify(opts.title)}`
      }`;
      const r = await writeReport({ inDir, outFile, title: opts.title, command });
      for (const s of r.skipped) io.err(`skipped ${relative(root, s.file)} (${s.why})`);
      io.out(`wrote ${r.outFile} (${r.results} result(s), ${r.plots.length} plot(s))`);
    });

  program
    .command('compare')
    .description(
      'compare results: no argument = every file under bench-results against git HEAD; one = that file ' +
        'against HEAD; two = <baseline> <current>',
    )
    .argument('[files...]', 'result files')
    .option('--rev <rev>', 'git revision holding the baseline results', 'HEAD')
    .option('--min-band <fraction>', 'smallest noise band (relative speed-up change)', toFloat, 0.05)
    .option('--fail-on-regression', 'exit with code 1 when a case regresses')
    .action(async (files: string[], opts: { rev: string; minBand: number; failOnRegression?: boolean }) => {
      const root = findRepoRoot(io.cwd);
      const pairs: { label: string; before: BenchResult | null; after: BenchResult }[] = [];
      if (files.length === 2) {
        pairs.push({
          label: files[1]!,
          before: readBenchResult(resolve(io.cwd, files[0]!)),
          after: readBenchResult(resolve(io.cwd, files[1]!)),
        });
      } else if (files.length <= 1) {
        const targets =
          files.length === 1 ? [resolve(io.cwd, files[0]!)] : listResultFiles(resolve(root, 'bench-results'));
        for (const f of targets) {
          let after: BenchResult;
          try {
            after = readBenchResult(f);
          } catch (e) {
            if (files.length === 1) throw e;
            // Not a result file (another JSON format): say so, and compare the rest.
            io.err(
              `skipped ${relative(root, f)} (${(e as Error).message.includes('not a valid') ? 'not a hasten.bench/1 result' : (e as Error).message})`,
            );
            continue;
          }
          pairs.push({
            label: relative(root, f),
            before: readCommittedResult(f, { rev: opts.rev, root }),
            after,
          });
        }
      } else {
        throw new Error('compare: give zero, one or two result files');
      }
      let regressions = 0;
      for (const p of pairs) {
        if (!p.before) {
          io.out(`${p.label}: no baseline at ${opts.rev} (new result), nothing to compare`);
          continue;
        }
        const cmp = compareResults(p.before, p.after, { minBand: opts.minBand });
        regressions += cmp.regressions;
        io.out(formatComparison(cmp));
      }
      if (pairs.length === 0) io.out('no result files to compare');
      io.out(`${regressions} regression(s) in total`);
      if (regressions > 0 && opts.failOnRegression) code = 1;
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`hasten-bench: ${(e as Error).message}`);
    return 2;
  }
  return code;
}

function toInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${v}"`);
  return n;
}

function toFloat(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got "${v}"`);
  return n;
}

/** Relative paths resolve against the cwd when they exist there, else against the repository root. */
function resolveFrom(cwd: string, root: string, p: string): string {
  const fromCwd = resolve(cwd, p);
  if (existsSync(fromCwd) || existsSync(resolve(fromCwd, '..'))) return fromCwd;
  return resolve(root, p);
}

async function loadDefinitions(file: string): Promise<BenchmarkDefinition[]> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`run: ${file} is not a file`);
  const url = pathToFileURL(file).href;
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    // Built CLI on plain Node importing a .ts bench: load tsx's loader if it is installed.
    const tsxApi = 'tsx/esm/api';
    try {
      const { register } = (await import(tsxApi)) as { register: () => unknown };
      register();
    } catch {
      throw new Error(`run: ${file} is TypeScript; run via tsx (npx tsx packages/eval/src/cli.ts run ...)`);
    }
    mod = await import(`${url}?tsx`); // a fresh URL: Node caches the failed load of the first one
  }
  const d = mod.default;
  const defs = Array.isArray(d) ? d : [d];
  if (defs.length === 0 || defs.some((x) => x === null || typeof x !== 'object' || !('cases' in x))) {
    throw new Error(
      `run: ${file} must default-export a benchmark definition (defineBenchmark({...})) or an array`,
    );
  }
  return defs as BenchmarkDefinition[];
}
