import { z } from 'zod';
import { speedup } from '../metrics/speedup.js';
import { parseOptions } from '../util/check.js';
import { formatMs, sig } from './formatTime.js';
import { type BenchResult, type CaseResult, type Environment, parseBenchResult } from './schema.js';

// Compares a new result with a baseline result (e.g. the committed one). A case regresses when
//  - its quality check stops passing;
//  - its speed-up drops by more than the noise band. The band is taken from the recorded spread: the
//    relative half-widths of both bootstrap CIs added together, never less than `minBand`, so two
//    noisy runs are not flagged for a change they cannot resolve;
//  - or, when both results come from the same machine (same CPU, cores, runtime, platform, backend and
//    adapter), the method's own time grows: the ratio of its medians, before/after, with a bootstrap
//    CI over the stored samples, is below 1 - minBand and the CI excludes 1. This catches a change
//    that slows the method and its baseline alike (e.g. a shared kernel), which the speed-up hides.
//    Across machines absolute times say nothing, so only the speed-up is compared.

const compareOptions = z
  .object({
    minBand: z.number().min(0).max(1).default(0.05),
    confidence: z.number().gt(0).lt(1).default(0.95),
    seed: z.number().int().default(0),
  })
  .strict();
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
  /** The method's median time before → after, on the same machine only (else null). */
  methodTime: MethodTimeChange | null;
  reason: string;
}

export interface MethodTimeChange {
  beforeMs: number;
  afterMs: number;
  /** median(before) / median(after): < 1 means the method got slower. */
  ratio: number;
  low: number;
  high: number;
}

export interface Comparison {
  bench: string;
  /** Whether absolute times were compared (both results from the same machine). */
  sameMachine: boolean;
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
  const opts = parseOptions(compareOptions, options, 'compareResults');
  const { minBand } = opts;
  const base = parseBenchResult(baseline, 'compareResults: baseline');
  const cur = parseBenchResult(current, 'compareResults: current');
  const same = sameMachine(base.environment, cur.environment);
  const before = new Map(base.cases.map((c) => [c.name, c]));
  const after = new Map(cur.cases.map((c) => [c.name, c]));
  const rows: CaseComparison[] = [];
  for (const c of cur.cases) {
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
        methodTime: null,
        reason: 'not in the baseline',
      });
      continue;
    }
    const change = c.speedup.ratio / b.speedup.ratio - 1;
    const band = Math.max(minBand, halfWidth(b) + halfWidth(c));
    const qb = b.quality?.pass ?? null;
    const qa = c.quality?.pass ?? null;
    const time = same ? methodTimeChange(b, c, opts) : null;
    const bandText = `band ±${(band * 100).toFixed(1)}%`;
    const ratioText = `speed-up ${sig(b.speedup.ratio)}× → ${sig(c.speedup.ratio)}× (${pct(change)}, ${bandText})`;
    const timeText = time
      ? `${c.methodLabel} time ${formatMs(time.beforeMs)} → ${formatMs(time.afterMs)} (${pct(1 / time.ratio - 1)}, ` +
        `${Math.round(opts.confidence * 100)}% CI of the time ratio [${sig(1 / time.high)}, ${sig(1 / time.low)}])`
      : '';
    const slower = time !== null && time.ratio < 1 - minBand && time.high < 1;
    const faster = time !== null && time.ratio > 1 + minBand && time.low > 1;
    let status: CaseStatus = 'unchanged';
    let reason = `speed-up change ${pct(change)} within ±${(band * 100).toFixed(1)}%${time ? `; ${timeText}` : ''}`;
    if (qb === true && qa === false) {
      status = 'regression';
      reason = `quality check ${c.quality!.metric} now fails`;
    } else if (change < -band) {
      status = 'regression';
      reason = ratioText;
    } else if (slower) {
      status = 'regression';
      reason = `${timeText}; ${ratioText}`;
    } else if (change > band) {
      status = 'improvement';
      reason = ratioText;
    } else if (faster) {
      status = 'improvement';
      reason = `${timeText}; ${ratioText}`;
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
      methodTime: time,
      reason,
    });
  }
  for (const b of base.cases) {
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
        methodTime: null,
        reason: 'missing from the new result',
      });
    }
  }
  return {
    bench: `${cur.package}/${cur.bench}`,
    sameMachine: same,
    cases: rows,
    regressions: rows.filter((r) => r.status === 'regression').length,
  };
}

/** Same hardware and software stack, so absolute times are comparable. */
export function sameMachine(a: Environment, b: Environment): boolean {
  if (a.cpu === null || b.cpu === null) return false;
  return (
    a.cpu === b.cpu &&
    a.cores === b.cores &&
    a.runtime === b.runtime &&
    a.platform === b.platform &&
    a.backend === b.backend &&
    a.adapter === b.adapter
  );
}

function methodTimeChange(
  b: CaseResult,
  c: CaseResult,
  opts: { confidence: number; seed: number },
): MethodTimeChange {
  const est = speedup(b.samples.method, c.samples.method, {
    paired: false,
    confidence: opts.confidence,
    seed: opts.seed,
  });
  return {
    beforeMs: b.method.median,
    afterMs: c.method.median,
    ratio: est.ratio,
    low: est.low,
    high: est.high,
  };
}

function pct(v: number): string {
  return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

export function formatComparison(cmp: Comparison): string {
  const machine = cmp.sameMachine
    ? 'same machine: speed-ups and times'
    : 'different machines: speed-ups only';
  const lines = [`${cmp.bench}: ${cmp.regressions} regression(s) (${machine})`];
  for (const r of cmp.cases) lines.push(`  ${r.status.toUpperCase().padEnd(11)} ${r.name}: ${r.reason}`);
  return lines.join('\n');
}
