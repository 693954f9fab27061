import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { type RenderReportOptions, renderReport } from '../report/renderReport.js';
import { parseOptions } from '../util/check.js';
import { findRepoRoot } from './repoRoot.js';
import { readResultsDir, type SkippedFile } from './resultFiles.js';

// Renders every result under `inDir` into a Markdown report at `outFile`, with SVG plots beside it.

const writeReportOptions = z
  .object({
    /** Folder searched (recursively) for result JSON files. */
    inDir: z.string().min(1),
    /** The Markdown file to write; plots go beside it. */
    outFile: z.string().endsWith('.md', 'must be a Markdown file ending in .md'),
    // Passed on to renderReport, which checks them.
    title: z.unknown().optional(),
    plotsDir: z.unknown().optional(),
    command: z.unknown().optional(),
    repoRoot: z.unknown().optional(),
  })
  .strict();
export type WriteReportOptions = RenderReportOptions & { inDir: string; outFile: string };

export async function writeReport(
  options: WriteReportOptions,
): Promise<{ outFile: string; plots: string[]; results: number; skipped: SkippedFile[] }> {
  const { inDir, outFile: out, ...render } = parseOptions(writeReportOptions, options, 'writeReport');
  const { results, skipped } = readResultsDir(inDir);
  if (results.length === 0) {
    throw new Error(`writeReport: no bench results in ${resolve(inDir)} (run some benchmarks first)`);
  }
  const outFile = resolve(out);
  const base = dirname(outFile);
  // Image paths are relative to the repository root: link them from the report's folder.
  const root = relative(base, findRepoRoot(base)).split('\\').join('/');
  const report = await renderReport(results, {
    repoRoot: root === '' ? '.' : root,
    ...(render as RenderReportOptions),
  });
  mkdirSync(base, { recursive: true });
  const plots: string[] = [];
  for (const f of report.files) {
    const p = join(base, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    plots.push(p);
  }
  writeFileSync(outFile, report.markdown);
  return { outFile, plots, results: results.length, skipped };
}
