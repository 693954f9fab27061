import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { sig } from '../harness/formatTime.js';
import type { BenchResult } from '../harness/schema.js';
import { fail } from '../util/check.js';

// Vega-Lite spec: one bar per case at the speed-up ratio, whiskers at the bootstrap CI, the ratio written
// above each bar, and a dashed rule at 1× (no change). Specs are plain objects: render with renderSvg.

const barsSchema = z
  .array(
    z
      .object({
        label: z.string().min(1),
        ratio: z.number().positive(),
        low: z.number().positive(),
        high: z.number().positive(),
        pass: z.boolean().optional(),
      })
      .strict(),
  )
  .min(1, 'must hold at least one bar');
export type SpeedupBar = z.infer<typeof barsSchema>[number];

export function speedupBars(result: BenchResult): SpeedupBar[] {
  return result.cases.map((c) => ({
    label: c.name,
    ratio: c.speedup.ratio,
    low: c.speedup.low,
    high: c.speedup.high,
    ...(c.quality ? { pass: c.quality.pass } : {}),
  }));
}

export function speedupChartSpec(input: readonly SpeedupBar[], title: string): TopLevelSpec {
  const parsed = barsSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    fail(
      'speedupChartSpec',
      `bars${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`,
      i.message,
    );
  }
  if (typeof title !== 'string' || title.length === 0)
    fail('speedupChartSpec', 'title', 'must be a non-empty string');
  const bars = parsed.data;
  const values = bars.map((b) => ({
    ...b,
    text: `${sig(b.ratio)}×`,
    quality: b.pass === undefined ? 'no check' : b.pass ? 'quality pass' : 'quality FAIL',
  }));
  // Ratios are multiplicative: when they span more than 10x, a log axis shows 0.2x and 300x alike, and
  // bars grow up or down from 1x (no change).
  const lo = Math.min(...values.map((v) => v.low), 1);
  const hi = Math.max(...values.map((v) => v.high), 1);
  const log = hi / lo > 10;
  const yTitle = log ? 'speed-up (× baseline, log scale)' : 'speed-up (× baseline)';
  // Only the categories present, in a fixed order and colour.
  const legend = (
    [
      ['quality pass', '#4c78a8'],
      ['quality FAIL', '#e45756'],
      ['no check', '#9d9d9d'],
    ] as const
  ).filter(([name]) => values.some((v) => v.quality === name));
  const x = {
    field: 'label',
    type: 'nominal' as const,
    sort: null,
    title: null,
    axis: { labelAngle: -25, labelLimit: 0 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: Math.max(160, 70 * bars.length),
    height: 220,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          y: {
            field: 'ratio',
            type: 'quantitative',
            title: yTitle,
            scale: log ? { type: 'log', domain: [lo / 1.5, hi * 1.5] } : { zero: true },
          },
          ...(log ? { y2: { datum: 1 } } : {}),
          color: {
            field: 'quality',
            type: 'nominal',
            title: null,
            scale: { domain: legend.map((l) => l[0]), range: legend.map((l) => l[1]) },
          },
        },
      },
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: yTitle }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'text', dy: -10, fontSize: 11 },
        encoding: { x, y: { field: 'high', type: 'quantitative', title: yTitle }, text: { field: 'text' } },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#333' },
        encoding: { y: { field: 'one', type: 'quantitative', title: yTitle } },
      },
    ],
  };
}
