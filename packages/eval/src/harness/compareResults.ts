import { z } from 'zod';
import { parseOptions } from '../util/check.js';
import { sig } from './formatTime.js';
import type { BenchResult, CaseResult } from './schema.js';

// Compares a new result with a baseline result (e.g. the committed one). A case regresses when its
// speed-up drops by more than the noise band, or when its quality check stops passing. The noise band
// is taken from the recorded spread: the relative half-widths of both bootstrap CIs added together,
// never less than `minBand`, so two noisy runs are not flagged for a change they cannot resolve.

const compareOptions = z.object({ minBand: z.number().min(0).max(1).default(0.05) }).strict();
export type CompareOptions = z.input<typeof compareOptions>;

export type CaseStatus = 'regression' | 'improvement' | 'unchanged' | 'new' | 'removed';

export interface CaseComparison {
  name: string;
  status: CaseStatus;
  before: number | null;
  after: number | null;
  /** after / before - 1 (null for new or removed cases). */
  change: number | null;
  /** Relative band within which a change counts as noise. */
  band: number | null;
  qualityBefore: boolean | null;
  qualityAfter: boolean | null;
  reason: string;
}

export interface Comparison {
  bench: string;
  cases: CaseComparison[];
  regressions: number;
}

function halfWidth(c: CaseResult): number {
  return (c.speedup.high - c.speedup.low) / (2 * c.speedup.ratio);
}

export function compareResults(
  baseline: BenchResult,
  current: BenchResult,
  options: CompareOptions = {},
): Comparison {
  const { minBand } = parseOptions(compareOptions, options, 'compareResults');
  const before = new Map(baseline.cases.map((c) => [c.name, c]));
  const after = new Map(current.cases.map((c) => [c.name, c]));
  const rows: CaseComparison[] = [];
  for (const c of current.cases) {
    const b = before.get(c.name);
    if (!b) {
      rows.push({
        name: c.name,
        status: 'new',
        before: null,
        after: c.speedup.ratio,
        change: null,
        band: null,
        qualityBefore: null,
        qualityAfter: c.quality?.pass ?? null,
        reason: 'not in the baseline',
      });
      continue;
    }
    const change = c.speedup.ratio / b.speedup.ratio - 1;
    const band = Math.max(minBand, halfWidth(b) + halfWidth(c));
    const qb = b.quality?.pass ?? null;
    const qa = c.quality?.pass ?? null;
    let status: CaseStatus = 'unchanged';
    let reason = `speed-up change ${pct(change)} within ±${(band * 100).toFixed(1)}%`;
    if (qb === true && qa === false) {
      status = 'regression';
      reason = `quality check ${c.quality!.metric} now fails`;
    } else if (change < -band) {
      status = 'regression';
      reason = `speed-up ${sig(b.speedup.ratio)}× → ${sig(c.speedup.ratio)}× (${pct(change)}, band ±${(band * 100).toFixed(1)}%)`;
    } else if (change > band) {
      status = 'improvement';
      reason = `speed-up ${sig(b.speedup.ratio)}× → ${sig(c.speedup.ratio)}× (${pct(change)}, band ±${(band * 100).toFixed(1)}%)`;
    }
    rows.push({
      name: c.name,
      status,
      before: b.speedup.ratio,
      after: c.speedup.ratio,
      change,
      band,
      qualityBefore: qb,
      qualityAfter: qa,
      reason,
    });
  }
  for (const b of baseline.cases) {
    if (!after.has(b.name)) {
      rows.push({
        name: b.name,
        status: 'removed',
        before: b.speedup.ratio,
        after: null,
        change: null,
        band: null,
        qualityBefore: b.quality?.pass ?? null,
        qualityAfter: null,
        reason: 'missing from the new result',
      });
    }
  }
  return {
    bench: `${current.package}/${current.bench}`,
    cases: rows,
    regressions: rows.filter((r) => r.status === 'regression').length,
  };
}

function pct(v: number): string {
  return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

export function formatComparison(cmp: Comparison): string {
  const lines = [`${cmp.bench}: ${cmp.regressions} regression(s)`];
  for (const r of cmp.cases) lines.push(`  ${r.status.toUpperCase().padEnd(11)} ${r.name}: ${r.reason}`);
  return lines.join('\n');
}
