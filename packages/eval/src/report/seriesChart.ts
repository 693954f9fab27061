import type { TopLevelSpec } from 'vega-lite';
import { type Series, seriesSchema } from '../harness/schema.js';
import { parseOptions } from '../util/check.js';

// Vega-Lite spec for a stored series: accuracy against budget (log2 x-axis when the budgets span a wide
// range, as in test-time-scaling plots) or quality against steps. One coloured line per label, points
// marked, and a shaded band where the points carry low/high.

export function seriesChartSpec(input: Series): TopLevelSpec {
  const series = parseOptions(seriesSchema, input, 'seriesChartSpec', 'series');
  const values = series.lines.flatMap((l) =>
    l.points.map((p) => ({ line: l.label, x: p.x, y: p.y, low: p.low ?? p.y, high: p.high ?? p.y })),
  );
  const xs = values.map((v) => v.x);
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const log =
    series.xScale === 'log' ||
    (series.xScale === undefined && series.kind === 'accuracy-vs-budget' && minX > 0 && maxX / minX >= 8);
  const hasBand = series.lines.some((l) => l.points.some((p) => p.low !== undefined || p.high !== undefined));
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: series.xLabel,
    scale: log ? { type: 'log' as const, base: 2 } : { zero: false },
  };
  const color = { field: 'line', type: 'nominal' as const, title: null, legend: { labelLimit: 0 } };
  if (series.yScale === 'log' && values.some((v) => v.y <= 0 || v.low <= 0)) {
    throw new Error(`seriesChartSpec: series "${series.name}" has yScale 'log' but values <= 0`);
  }
  const yScale = series.yScale === 'log' ? { type: 'log' as const } : { zero: false };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: series.title,
    width: 360,
    height: 220,
    data: { values },
    layer: [
      ...(hasBand
        ? [
            {
              mark: { type: 'errorband' as const, opacity: 0.2 },
              encoding: {
                x,
                y: { field: 'low', type: 'quantitative' as const, title: series.yLabel },
                y2: { field: 'high' },
                color,
              },
            },
          ]
        : []),
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'y', type: 'quantitative', title: series.yLabel, scale: yScale },
          color,
        },
      },
    ],
  };
}
