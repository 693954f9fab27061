import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchResult, serializeBenchResult } from '../harness/schema.js';
import { parseSvg } from '../testing/parseSvg.js';
import { runCli } from './cliProgram.js';

// End to end: `hasten-bench run` on a small synthetic bench module (plain .mjs, a sleep-free CPU
// workload), then `report` and `compare`, all in a temporary folder.

const benchModule = `
const data = Float64Array.from({ length: 4000 }, (_, i) => Math.cos(i));
export default {
  package: 'synthetic',
  name: 'cli-toy',
  description: 'A toy benchmark for the CLI test.',
  warmup: 1,
  repeats: 3,
  cases: [
    {
      name: 'dot',
      baselineLabel: 'reduce',
      methodLabel: 'for loop',
      batch: 20,
      baseline: () => data.reduce((s, v) => s + v * v, 0),
      method: () => { let s = 0; for (let i = 0; i < data.length; i++) s += data[i] * data[i]; return s; },
      quality: (a, b) => ({ metric: 'relative error', value: Math.abs(a - b) / a, pass: Math.abs(a - b) / a < 1e-12 }),
      work: { amount: 4000, unit: 'mul' },
    },
  ],
  series: [{ kind: 'quality-vs-steps', name: 'err', title: 'Error against steps', xLabel: 'steps', yLabel: 'error',
    lines: [{ label: 'toy-solver', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.25 }, { x: 4, y: 0.125 }] }] }],
};
`;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), progress: false },
  };
}

describe('hasten-bench CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hasten-bench-'));
    writeFileSync(join(dir, 'toy.bench.mjs'), benchModule);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run: executes the module, prints the table and writes validated JSON', async () => {
    const c = capture();
    const code = await runCli(['run', 'toy.bench.mjs', '--root', dir, '--no-progress'], {
      ...c.io,
      cwd: dir,
    });
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const file = join(dir, 'bench-results', 'synthetic', 'cli-toy.json');
    const result = parseBenchResult(JSON.parse(readFileSync(file, 'utf8')));
    expect(result.cases[0]!.samples.baseline).toHaveLength(3);
    expect(result.cases[0]!.quality!.pass).toBe(true);
    expect(result.environment.cpu).not.toBeNull();
    expect(result.environment.gitCommit).toBeNull(); // not a repository: recorded as unknown, no failure
    expect(c.out.join('\n')).toMatch(/synthetic\/cli-toy[\s\S]*dot +reduce: [\s\S]*PASS relative error/);
    expect(c.out.join('\n')).toContain(`wrote ${file}`);
  });

  it('report: writes Markdown with SVG plots beside it', async () => {
    const c = capture();
    const code = await runCli(['report', '--in', 'bench-results', '--out', 'bench-results/REPORT.md'], {
      ...c.io,
      cwd: dir,
    });
    expect(code).toBe(0);
    const md = readFileSync(join(dir, 'bench-results', 'REPORT.md'), 'utf8');
    expect(md).toContain('## synthetic/cli-toy');
    expect(md).toContain('A toy benchmark for the CLI test.');
    expect(md).toContain(
      'Produced by `hasten-bench report --in bench-results --out bench-results/REPORT.md`.',
    );
    expect(md).toContain('![Error against steps](plots/synthetic-cli-toy-err.svg)');
    const plots = readdirSync(join(dir, 'bench-results', 'plots')).sort();
    expect(plots).toEqual(['synthetic-cli-toy-err.svg', 'synthetic-cli-toy-speedup.svg']);
    const svg = parseSvg(
      readFileSync(join(dir, 'bench-results', 'plots', 'synthetic-cli-toy-err.svg'), 'utf8'),
    );
    expect(svg.texts).toContain('toy-solver');
    const points = svg.marks.find((m) => m.type === 'symbol')!.items;
    expect(points.map((p) => [Number(p.steps), Number(p.error)])).toEqual([
      [1, 0.5],
      [2, 0.25],
      [4, 0.125],
    ]);
    const bars = parseSvg(
      readFileSync(join(dir, 'bench-results', 'plots', 'synthetic-cli-toy-speedup.svg'), 'utf8'),
    ).marks.find((m) => m.type === 'rect')!.items;
    expect(bars.map((b) => b.label)).toEqual(['dot']);
    expect(c.out[0]).toMatch(/wrote .*REPORT\.md \(1 result\(s\), 2 plot\(s\)\)/);
  });

  it('compare: two files; a regression beyond the band fails only with --fail-on-regression', async () => {
    // Three timed runs give a wide CI; pin a tight one (±2%) so the test is about the rule, not the noise.
    const file = join(dir, 'bench-results', 'synthetic', 'cli-toy.json');
    const base = parseBenchResult(JSON.parse(readFileSync(file, 'utf8')));
    const s = base.cases[0]!.speedup;
    base.cases[0]!.speedup = { ...s, ratio: 2, low: 1.96, high: 2.04 };
    writeFileSync(file, serializeBenchResult(base));
    const slower = structuredClone(base);
    slower.cases[0]!.speedup = { ...s, ratio: 1.5, low: 1.47, high: 1.53 };
    mkdirSync(join(dir, 'other'), { recursive: true });
    const slowFile = join(dir, 'other', 'cli-toy.json');
    writeFileSync(slowFile, serializeBenchResult(slower));

    const a = capture();
    expect(await runCli(['compare', file, slowFile], { ...a.io, cwd: dir })).toBe(0);
    expect(a.out.join('\n')).toMatch(/REGRESSION +dot: speed-up/);
    const b = capture();
    expect(await runCli(['compare', file, slowFile, '--fail-on-regression'], { ...b.io, cwd: dir })).toBe(1);
    const same = capture();
    expect(await runCli(['compare', file, file, '--fail-on-regression'], { ...same.io, cwd: dir })).toBe(0);
    expect(same.out.join('\n')).toContain('0 regression(s) in total');
  });

  it('compare: against the committed result in git (HEAD)', async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], {
        cwd: dir,
        stdio: 'ignore',
      });
    try {
      git('init', '-q');
      git('add', 'bench-results/synthetic/cli-toy.json');
      git('commit', '-q', '-m', 'baseline');
    } catch {
      return; // no git on this machine: the HEAD comparison is covered where git exists
    }
    const rel = join('bench-results', 'synthetic', 'cli-toy.json');
    const unchanged = capture();
    expect(await runCli(['compare', rel, '--fail-on-regression'], { ...unchanged.io, cwd: dir })).toBe(0);
    writeFileSync(join(dir, rel), readFileSync(join(dir, 'other', 'cli-toy.json'), 'utf8'));
    writeFileSync(join(dir, 'bench-results', 'notes.json'), '{"hello": 1}');
    const c = capture();
    expect(await runCli(['compare', '--fail-on-regression'], { ...c.io, cwd: dir })).toBe(1);
    expect(c.out.join('\n')).toMatch(/synthetic\/cli-toy: 1 regression/);
    expect(c.err).toEqual([`skipped ${join('bench-results', 'notes.json')} (not a hasten.bench/1 result)`]);
  });

  it('reports usage errors with a non-zero code', async () => {
    const c = capture();
    expect(await runCli(['run', 'missing.mjs', '--no-progress'], { ...c.io, cwd: dir })).toBe(2);
    expect(c.err.join('\n')).toMatch(/missing\.mjs is not a file/);
    const d = capture();
    expect(await runCli(['nope'], { ...d.io, cwd: dir })).not.toBe(0);
    writeFileSync(join(dir, 'bad.mjs'), 'export default 42;');
    const e = capture();
    expect(await runCli(['run', 'bad.mjs', '--no-progress'], { ...e.io, cwd: dir })).toBe(2);
    expect(e.err.join('\n')).toMatch(/must default-export a benchmark definition/);
  });
});
