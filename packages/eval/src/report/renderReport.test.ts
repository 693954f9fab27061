import { describe, expect, it } from 'vitest';
import { sig } from '../harness/formatTime.js';
import type { Series } from '../harness/schema.js';
import { parseSvg, type SvgMark } from '../testing/parseSvg.js';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { renderReport } from './renderReport.js';
import { renderSvg } from './renderSvg.js';
import { seriesChartSpec } from './seriesChart.js';
import { speedupBars, speedupChartSpec } from './speedupChart.js';

/** The drawn items of the first mark of a type whose name matches. */
function items(marks: SvgMark[], type: string): Record<string, string>[] {
  const m = marks.find((k) => k.type === type);
  if (!m) throw new Error(`no ${type} mark in ${marks.map((k) => k.type).join(', ')}`);
  return m.items;
}

/** Every point of every line is drawn as a symbol at its (x, y), and nothing else is. */
function expectSeriesPlotted(series: Series, marks: SvgMark[]): void {
  const drawn = items(marks, 'symbol').map((p) => ({
    line: p.line,
    x: Number(p[series.xLabel]),
    y: Number(p[series.yLabel]),
  }));
  const want = series.lines.flatMap((l) => l.points.map((p) => ({ line: l.label, x: p.x, y: p.y })));
  expect(drawn).toHaveLength(want.length);
  for (const w of want) {
    const hit = drawn.find(
      (d) => d.line === w.line && d.x === w.x && Math.abs(d.y - w.y) <= 1e-9 * Math.max(1, Math.abs(w.y)),
    );
    expect(hit, `point ${w.line} (${w.x}, ${w.y})`).toBeDefined();
  }
  // One line path per labelled line.
  expect(marks.filter((m) => m.type === 'line').reduce((s, m) => s + m.items.length, 0)).toBe(
    series.lines.length,
  );
}

describe('report rendering (vega-lite -> SVG)', () => {
  it('speed-up bars: parses as SVG, one bar per case at its ratio, the ratio written on it', async () => {
    const r = await syntheticResult();
    const svg = parseSvg(await renderSvg(speedupChartSpec(speedupBars(r), 'toy speed-up')));
    expect(svg.root).toBe('svg');
    const bars = items(svg.marks, 'rect').filter((b) => 'label' in b);
    expect(bars.map((b) => b.label)).toEqual(['sum', 'copy']);
    r.cases.forEach((c, i) => {
      expect(Number(bars[i]!['speed-up (× baseline)'])).toBeCloseTo(c.speedup.ratio, 9);
      expect(bars[i]!.quality).toBe('quality pass');
    });
    for (const c of r.cases) expect(svg.texts).toContain(`${sig(c.speedup.ratio)}×`);
    expect(svg.texts).toEqual(expect.arrayContaining(['toy speed-up', 'speed-up (× baseline)']));
  });

  it('a failed quality check is coloured and named in the legend', async () => {
    const r = await syntheticResult({ failQuality: true });
    const svg = parseSvg(await renderSvg(speedupChartSpec(speedupBars(r), 'with a failure')));
    const bars = items(svg.marks, 'rect').filter((b) => 'label' in b);
    expect(bars.map((b) => b.quality)).toEqual(['quality FAIL', 'quality pass']);
    expect(svg.texts).toEqual(expect.arrayContaining(['quality FAIL', 'quality pass']));
  });

  it('series charts: every point of every line is plotted; legend and axis titles present', async () => {
    const r = await syntheticResult();
    const budgetSeries = r.series[0]!;
    const budget = parseSvg(await renderSvg(seriesChartSpec(budgetSeries)));
    expectSeriesPlotted(budgetSeries, budget.marks);
    expect(budget.texts).toEqual(
      expect.arrayContaining(['oracle', 'majority', 'samples', 'accuracy', 'Coverage against samples']),
    );
    // log2 budget axis: the ticks are the powers of two
    expect(budget.texts).toEqual(expect.arrayContaining(['1', '2', '4', '8', '16']));
    // the majority line carries an interval: drawn as an error band
    expect(budget.marks.some((m) => m.type === 'area')).toBe(true);
    const stepsSeries = r.series[1]!;
    const steps = parseSvg(await renderSvg(seriesChartSpec(stepsSeries)));
    expectSeriesPlotted(stepsSeries, steps.marks);
    expect(steps.texts).toEqual(expect.arrayContaining(['solver-x', 'steps', 'relative error']));
    expect(steps.marks.some((m) => m.type === 'area')).toBe(false);
  });

  it('renders a Markdown report with a table and links to every plot', async () => {
    const a = await syntheticResult({ bench: 'toy' });
    const b = await syntheticResult({ bench: 'other', factor: 3 });
    const report = await renderReport([b, a], { title: 'Test report', command: 'hasten-bench report' });
    const md = report.markdown;
    expect(md.startsWith('# Test report\n')).toBe(true);
    expect(md.indexOf('## synthetic/other')).toBeLessThan(md.indexOf('## synthetic/toy'));
    expect(md).toContain('| case | baseline | method | speed-up (CI) | throughput | quality |');
    expect(md).toContain('commit 0123456789');
    const paths = report.files.map((f) => f.path);
    expect(paths).toEqual([
      'plots/overview-speedup.svg',
      'plots/synthetic-other-speedup.svg',
      'plots/synthetic-other-coverage.svg',
      'plots/synthetic-other-error-steps.svg',
      'plots/synthetic-toy-speedup.svg',
      'plots/synthetic-toy-coverage.svg',
      'plots/synthetic-toy-error-steps.svg',
    ]);
    for (const f of report.files) {
      expect(md).toContain(`](${f.path})`);
      expect(parseSvg(f.content).root).toBe('svg');
    }
    const overview = items(parseSvg(report.files[0]!.content).marks, 'rect').filter((x) => 'label' in x);
    expect(overview.map((x) => x.label)).toEqual([
      'synthetic/other: sum',
      'synthetic/other: copy',
      'synthetic/toy: sum',
      'synthetic/toy: copy',
    ]);
    expectSeriesPlotted(a.series[0]!, parseSvg(report.files[5]!.content).marks);
    await expect(renderReport([a], { plotsDir: 5 as unknown as string })).rejects.toThrow(
      /renderReport: invalid options\.plotsDir/,
    );
    await expect(renderReport([a], { plotsDir: '../up' })).rejects.toThrow(/options\.plotsDir/);
    await expect(renderReport([{ ...a, schema: 'other' } as never])).rejects.toThrow(
      /renderReport: results\[0\]: not a valid hasten\.bench\/1 result: schema/,
    );
  });
});

describe('report images (sample grids a benchmark wrote)', () => {
  it('links each image under its result, from the report to the repository root; bad paths are rejected', async () => {
    const r = await syntheticResult();
    const withImages = {
      ...r,
      images: [
        { title: 'DDIM, 10 steps', path: 'bench-results/toy/grids/ddim-10.png' },
        { title: 'cache off', path: 'bench-results/toy/grids/off.png' },
      ],
    };
    const nested = await renderReport([withImages], { repoRoot: '..' });
    expect(nested.markdown).toContain(
      '### DDIM, 10 steps\n\n![DDIM, 10 steps](../bench-results/toy/grids/ddim-10.png)',
    );
    expect(nested.markdown).toContain('![cache off](../bench-results/toy/grids/off.png)');
    // Images follow their result's own section and are not plots the report writes.
    expect(nested.markdown.indexOf('![DDIM')).toBeGreaterThan(
      nested.markdown.indexOf(`## ${r.package}/${r.bench}`),
    );
    expect(nested.files.some((f) => f.path.endsWith('.png'))).toBe(false);
    const atRoot = await renderReport([withImages]);
    expect(atRoot.markdown).toContain('](bench-results/toy/grids/ddim-10.png)');
    expect((await renderReport([r])).markdown).not.toContain('.png');
    for (const path of ['../outside.png', 'bench-results/a.txt', '/abs/x.png', 'a/../b.png']) {
      await expect(renderReport([{ ...r, images: [{ title: 't', path }] }])).rejects.toThrow(
        /images\.0\.path/,
      );
    }
    await expect(renderReport([withImages], { repoRoot: 'up' })).rejects.toThrow(/options\.repoRoot/);
  });
});

describe('parseSvg', () => {
  it('rejects malformed markup', () => {
    expect(() => parseSvg('<svg><g></svg>')).toThrow(/SVG/);
    expect(() => parseSvg('<svg a=1></svg>')).toThrow(/SVG/);
    expect(() => parseSvg('')).toThrow(/SVG/);
    expect(parseSvg('<svg><text x="1">a &amp; b</text><g/></svg>').texts).toEqual(['a & b']);
  });
});

describe('chart inputs are validated', () => {
  it('names the bad field', async () => {
    expect(() => speedupChartSpec([], 'x')).toThrow(/speedupChartSpec: bars must hold at least one bar/);
    expect(() => speedupChartSpec([{ label: 'a', ratio: -1, low: 1, high: 1 }], 'x')).toThrow(
      /speedupChartSpec: bars\[0\]\.ratio/,
    );
    const r = await syntheticResult();
    expect(() => seriesChartSpec({ ...r.series[0]!, kind: 'pie' as 'quality-vs-steps' })).toThrow(
      /seriesChartSpec: invalid series\.kind/,
    );
    // A result with no cases (curves only) renders without speed-up bars.
    const curvesOnly = { ...r, cases: [] };
    const report = await renderReport([curvesOnly, { ...curvesOnly, bench: 'other' }]);
    expect(report.files.map((f) => f.path)).toEqual([
      'plots/synthetic-other-coverage.svg',
      'plots/synthetic-other-error-steps.svg',
      'plots/synthetic-toy-coverage.svg',
      'plots/synthetic-toy-error-steps.svg',
    ]);
  });
});
