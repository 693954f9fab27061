import { z } from 'zod';
import { formatResultTable } from '../harness/formatResultTable.js';
import { type BenchResult, type Environment, parseBenchResult } from '../harness/schema.js';
import { fail, isArray, parseOptions } from '../util/check.js';
import { renderSvg } from './renderSvg.js';
import { seriesChartSpec } from './seriesChart.js';
import { type SpeedupBar, speedupBars, speedupChartSpec } from './speedupChart.js';

// Builds the Markdown report and its SVG plots from bench results, in memory (isomorphic). The Node
// helper writeReport puts the files on disk; a browser can show the same strings.

export interface ReportFile {
  /** Path relative to the Markdown file, e.g. "plots/eval-frechet-speedup.svg". */
  path: string;
  content: string;
}

export interface Report {
  markdown: string;
  files: ReportFile[];
}

const reportOptions = z
  .object({
    title: z.string().min(1).default('Benchmark report'),
    /** Folder for the SVGs, relative to the Markdown file. Default "plots". */
    plotsDir: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/, 'must be a relative folder such as "plots"')
      .refine((p) => !p.split('/').includes('..'), 'must stay below the report (no "..")')
      .default('plots'),
    /** Shown under the title, e.g. the command that produced the report. */
    command: z.string().min(1).optional(),
    /**
     * The repository root relative to the Markdown file (results' image paths are relative to the
     * root), e.g. ".." for bench-results/REPORT.md. Default ".".
     */
    repoRoot: z
      .string()
      .regex(/^(\.|\.\.)(\/\.\.)*$/, 'must be "." or a chain of ".." segments such as "../.."')
      .default('.'),
  })
  .strict();
export type RenderReportOptions = z.input<typeof reportOptions>;

export async function renderReport(
  results: readonly BenchResult[],
  options: RenderReportOptions = {},
): Promise<Report> {
  const opts = parseOptions(reportOptions, options, 'renderReport');
  if (!isArray(results)) fail('renderReport', 'results', 'must be an array of bench results');
  const checked = results.map((r, i) => parseBenchResult(r, `renderReport: results[${i}]`));
  const plots = opts.plotsDir.replace(/\/+$/, '');
  const sorted = [...checked].sort((a, b) => key(a).localeCompare(key(b)));
  const files: ReportFile[] = [];
  const md: string[] = [`# ${opts.title}`, ''];
  md.push(`${sorted.length} benchmark result(s).${opts.command ? ` Produced by \`${opts.command}\`.` : ''}`);
  md.push(
    'Each case runs the method and its baseline interleaved in one process; times are median ± MAD, the ' +
      'speed-up is median(baseline) / median(method) with a paired bootstrap confidence interval.',
    '',
  );
  const overview: SpeedupBar[] = sorted.flatMap((r) =>
    speedupBars(r).map((b) => ({ ...b, label: `${r.package}/${r.bench}: ${b.label}` })),
  );
  if (sorted.length > 1 && overview.length > 0) {
    const bars = overview;
    const path = `${plots}/overview-speedup.svg`;
    files.push({
      path,
      content: await renderSvg(speedupChartSpec(bars, 'Speed-up over baseline, all benchmarks')),
    });
    md.push(`![Speed-up over baseline, all benchmarks](${path})`, '');
  }
  for (const r of sorted) {
    md.push(`## ${r.package}/${r.bench}`, '');
    if (r.description) md.push(r.description, '');
    md.push(environmentLine(r.environment, r.createdAt), '');
    if (r.cases.length > 0) {
      md.push(formatResultTable(r, 'markdown'), '');
      const path = `${plots}/${r.package}-${r.bench}-speedup.svg`;
      const title = `${r.package}/${r.bench}: speed-up over baseline`;
      files.push({ path, content: await renderSvg(speedupChartSpec(speedupBars(r), title)) });
      md.push(`![${title}](${path})`, '');
    }
    for (const s of r.series) {
      const path = `${plots}/${r.package}-${r.bench}-${s.name}.svg`;
      files.push({ path, content: await renderSvg(seriesChartSpec(s)) });
      md.push(`### ${s.title}`, '', `![${s.title}](${path})`, '');
    }
    for (const img of r.images ?? []) {
      const path = opts.repoRoot === '.' ? img.path : `${opts.repoRoot}/${img.path}`;
      md.push(`### ${img.title}`, '', `![${img.title}](${path})`, '');
    }
  }
  return { markdown: `${md.join('\n').trimEnd()}\n`, files };
}

function key(r: BenchResult): string {
  return `${r.package}/${r.bench}`;
}

export function environmentLine(env: Environment, createdAt: string): string {
  const parts = [
    env.runtime,
    env.platform,
    env.cpu
      ? `${env.cpu}${env.cores ? ` (${env.cores} cores)` : ''}`
      : env.cores
        ? `${env.cores} cores`
        : null,
    env.backend ? `backend ${env.backend}` : null,
    env.adapter ? `adapter ${env.adapter}` : null,
    env.gitCommit
      ? `commit ${env.gitCommit.slice(0, 10)}${env.gitDirty ? ' (dirty)' : ''}`
      : 'commit unknown',
    Object.entries(env.versions)
      .map(([k, v]) => `${k}@${v}`)
      .join(', ') || null,
    createdAt.slice(0, 19).replace('T', ' '),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return `_${parts.join(' · ')}_`;
}
