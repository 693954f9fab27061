import { formatResultTable } from '../harness/formatResultTable.js';
import type { BenchResult, Environment } from '../harness/schema.js';
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

export interface RenderReportOptions {
  title?: string;
  /** Folder for the SVGs, relative to the Markdown file. Default "plots". */
  plotsDir?: string;
  /** Shown under the title, e.g. the command that produced the report. */
  command?: string;
}

export async function renderReport(
  results: readonly BenchResult[],
  options: RenderReportOptions = {},
): Promise<Report> {
  const plots = (options.plotsDir ?? 'plots').replace(/\/+$/, '');
  const sorted = [...results].sort((a, b) => key(a).localeCompare(key(b)));
  const files: ReportFile[] = [];
  const md: string[] = [`# ${options.title ?? 'Benchmark report'}`, ''];
  md.push(
    `${sorted.length} benchmark result(s).${options.command ? ` Produced by \`${options.command}\`.` : ''}`,
  );
  md.push(
    'Each case runs the method and its baseline interleaved in one process; times are median ± MAD, the ' +
      'speed-up is median(baseline) / median(method) with a paired bootstrap confidence interval.',
    '',
  );
  if (sorted.length > 1) {
    const bars: SpeedupBar[] = sorted.flatMap((r) =>
      speedupBars(r).map((b) => ({ ...b, label: `${r.package}/${r.bench}: ${b.label}` })),
    );
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
