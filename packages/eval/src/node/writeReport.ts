import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type RenderReportOptions, renderReport } from '../report/renderReport.js';
import { readResultsDir } from './resultFiles.js';

// Renders every result under `inDir` into a Markdown report at `outFile`, with SVG plots beside it.

export interface WriteReportOptions extends RenderReportOptions {
  inDir: string;
  outFile: string;
}

export async function writeReport(
  options: WriteReportOptions,
): Promise<{ outFile: string; plots: string[]; results: number; skipped: string[] }> {
  const { results, skipped } = readResultsDir(options.inDir);
  if (results.length === 0) {
    throw new Error(`writeReport: no bench results in ${resolve(options.inDir)} (run some benchmarks first)`);
  }
  const report = await renderReport(results, options);
  const outFile = resolve(options.outFile);
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
