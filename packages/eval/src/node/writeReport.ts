import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type RenderReportOptions, renderReport } from '../report/renderReport.js';
import { parseOptions } from '../util/check.js';
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
  const report = await renderReport(results, render as RenderReportOptions);
  const outFile = resolve(out);
  const base = dirname(outFile);
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
