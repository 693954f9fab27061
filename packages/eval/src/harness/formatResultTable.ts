import { describe, fail } from '../util/check.js';
import { formatMs, formatRate, sig } from './formatTime.js';
import { type BenchResult, type CaseResult, parseBenchResult } from './schema.js';

// Speed and quality side by side, as plain text for the console or as a Markdown table for reports.

/** Column headers; 'throughput' only when some case declares its work per call. */
export function resultColumns(result: BenchResult): string[] {
  const withWork = result.cases.some((c) => c.work);
  return ['case', 'baseline', 'method', 'speed-up (CI)', ...(withWork ? ['throughput'] : []), 'quality'];
}

export function resultRows(result: BenchResult): string[][] {
  const withWork = result.cases.some((c) => c.work);
  return result.cases.map((c) => [
    c.name,
    side(c.baselineLabel, c.baseline.median, c.baseline.mad),
    side(c.methodLabel, c.method.median, c.method.mad),
    `${sig(c.speedup.ratio)}× [${sig(c.speedup.low)}, ${sig(c.speedup.high)}]`,
    ...(withWork ? [throughput(c)] : []),
    quality(c),
  ]);
}

function side(label: string, median: number, mad: number): string {
  return `${label}: ${formatMs(median)} ± ${formatMs(mad)}`;
}

function throughput(c: CaseResult): string {
  if (!c.work) return '—';
  return `${formatRate(c.work.baselinePerSecond, c.work.unit)} → ${formatRate(c.work.methodPerSecond, c.work.unit)}`;
}

function quality(c: CaseResult): string {
  if (!c.quality) return '—';
  const q = c.quality;
  return `${q.pass ? 'PASS' : 'FAIL'} ${q.metric} = ${sig(q.value)}${q.threshold ? ` (${q.threshold})` : ''}`;
}

export function formatResultTable(result: BenchResult, format: 'text' | 'markdown' = 'text'): string {
  if (format !== 'text' && format !== 'markdown')
    fail('formatResultTable', 'format', `must be 'text' or 'markdown' (got ${describe(format)})`);
  parseBenchResult(result, 'formatResultTable: result');
  const rows = resultRows(result);
  const header = resultColumns(result);
  if (format === 'markdown') {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [
      `| ${header.join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const conf = Math.round(result.config.confidence * 100);
  const runs = result.cases.map((c) => c.samples.baseline.length);
  const lo = Math.min(...runs);
  const hi = Math.max(...runs);
  const count = lo === hi ? `${lo}` : `${lo}-${hi}`;
  return [
    `${result.package}/${result.bench}  (median ± MAD of ${count} interleaved runs; ${conf}% bootstrap CI)`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
