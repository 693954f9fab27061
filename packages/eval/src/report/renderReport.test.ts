import { describe, expect, it } from 'vitest';
import { sig } from '../harness/formatTime.js';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { checkXml } from '../testing/xmlCheck.js';
import { renderReport } from './renderReport.js';
import { renderSvg } from './renderSvg.js';
import { seriesChartSpec } from './seriesChart.js';
import { speedupBars, speedupChartSpec } from './speedupChart.js';

describe('report rendering (vega-lite -> SVG)', () => {
  it('speed-up bars: well-formed SVG with each case and its ratio written on the bar', async () => {
    const r = await syntheticResult();
    const svg = await renderSvg(speedupChartSpec(speedupBars(r), 'toy speed-up'));
    const { root, texts } = checkXml(svg);
    expect(root).toBe('svg');
    expect(texts).toContain('sum');
    expect(texts).toContain('copy');
    expect(texts).toContain('toy speed-up');
    for (const c of r.cases) expect(texts).toContain(`${sig(c.speedup.ratio)}×`);
    expect(texts).toContain('speed-up (× baseline)');
  });

  it('series charts: each line label is in the legend and the axes carry the labels', async () => {
    const r = await syntheticResult();
    const budget = checkXml(await renderSvg(seriesChartSpec(r.series[0]!)));
    expect(budget.texts).toEqual(
      expect.arrayContaining(['oracle', 'majority', 'samples', 'accuracy', 'Coverage against samples']),
    );
    // log2 budget axis: the ticks are the powers of two
    expect(budget.texts).toEqual(expect.arrayContaining(['1', '2', '4', '8', '16']));
    const steps = checkXml(await renderSvg(seriesChartSpec(r.series[1]!)));
    expect(steps.texts).toEqual(expect.arrayContaining(['solver-x', 'steps', 'relative error']));
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
      expect(checkXml(f.content).root).toBe('svg');
    }
    const overview = checkXml(report.files[0]!.content).texts;
    expect(overview).toEqual(expect.arrayContaining(['synthetic/toy: sum', 'synthetic/other: copy']));
  });
});

describe('checkXml', () => {
  it('rejects malformed markup', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => checkXml('<svg a=1></svg>')).toThrow(/malformed/);
    expect(checkXml('<svg><text x="1">a &amp; b</text><g/></svg>').texts).toEqual(['a & b']);
  });
});
