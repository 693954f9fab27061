import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeCompletionTask } from '../tasks/codeCompletion.js';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { collectEnvironment } from './collectEnvironment.js';
import { loadHeldoutFiles } from './loadHeldoutFiles.js';
import { findRepoRoot } from './repoRoot.js';
import {
  readBenchResult,
  readCommittedResult,
  readResultsDir,
  resultPath,
  writeBenchResult,
} from './resultFiles.js';
import { runAndWrite } from './runAndWrite.js';
import { writeReport } from './writeReport.js';

const dir = mkdtempSync(join(tmpdir(), 'hasten-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node helpers', () => {
  it('writes results to bench-results/<package>/<bench>.json and reads them back', async () => {
    const r = await syntheticResult();
    const file = writeBenchResult(r, { root: dir });
    expect(file).toBe(join(dir, 'bench-results', 'synthetic', 'toy.json'));
    expect(resultPath(r, dir)).toBe(file);
    expect(readBenchResult(file)).toEqual(r);
    writeFileSync(join(dir, 'bench-results', 'notes.json'), '{"hello": 1}');
    const all = readResultsDir(join(dir, 'bench-results'));
    expect(all.results).toHaveLength(1);
    expect(all.skipped).toHaveLength(1);
    expect(all.skipped[0]!.file).toBe(join(dir, 'bench-results', 'notes.json'));
    expect(all.skipped[0]!.why).toMatch(/^not a valid hasten\.bench\/1 result: schema/);
  });

  it('finds the monorepo root from inside a package', () => {
    const root = findRepoRoot(join(__dirname, '..', '..'));
    expect(root).toBe(join(__dirname, '..', '..', '..', '..'));
  });

  it('records the environment, with versions of named workspace packages', () => {
    const env = collectEnvironment({
      backend: 'cpu',
      adapter: 'test',
      packages: ['eval'],
      versions: { extra: '1.2.3' },
    });
    expect(env.runtime).toBe(`node ${process.version}`);
    expect(env.cores).toBeGreaterThan(0);
    expect(env.versions['@hasten/eval']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.versions.extra).toBe('1.2.3');
    expect([env.backend, env.adapter]).toEqual(['cpu', 'test']);
    expect(env.gitCommit === null || /^[0-9a-f]{40}$/.test(env.gitCommit)).toBe(true);
  });

  it('loads held-out files sorted by name, and says what is missing', () => {
    const held = join(dir, 'heldout');
    mkdirSync(held);
    writeFileSync(join(held, 'b.py'), 'b = 2\n');
    writeFileSync(join(held, 'a.py'), 'a = 1\n');
    writeFileSync(join(held, 'readme.txt'), 'skip');
    expect(loadHeldoutFiles({ dir: held })).toEqual([
      { name: 'a.py', text: 'a = 1\n' },
      { name: 'b.py', text: 'b = 2\n' },
    ]);
    expect(() => loadHeldoutFiles({ dir: join(dir, 'none') })).toThrow(/does not exist/);
  });

  it('builds code-completion@1 from the committed held-out corpus (frozen for seed 0)', () => {
    const files = loadHeldoutFiles();
    expect(files.map((f) => f.name)).toContain('enum.py');
    const t = codeCompletionTask(files, { seed: 0, count: 50 });
    expect(t.items).toHaveLength(50);
    expect(t.items.slice(0, 2).map((i) => [i.file, i.line, i.target])).toEqual([
      ['shutil.py', 649, '                    continue'],
      ['enum.py', 1473, '        return self._value_.bit_count()'],
    ]);
    for (const item of t.items) {
      const text = files.find((f) => f.name === item.file)!.text;
      expect(text.includes(`${item.prompt}${item.target}`)).toBe(true);
    }
    // The fingerprint covers the file texts: a changed corpus changes it.
    expect(t.fingerprint).toBe('16e31183');
    const edited = files.map((f, i) => (i === 0 ? { ...f, text: `${f.text}\n` } : f));
    expect(codeCompletionTask(edited, { seed: 0, count: 50 }).fingerprint).not.toBe(t.fingerprint);
  });

  it('every entry validates its options and names the bad field', async () => {
    const r = await syntheticResult();
    expect(() => collectEnvironment({ backnd: 'cpu' } as never)).toThrow(
      /collectEnvironment: invalid options: Unrecognized key.*backnd/,
    );
    expect(() => loadHeldoutFiles({ extension: 'py' })).toThrow(
      /loadHeldoutFiles: invalid options\.extension: must look like "\.py"/,
    );
    expect(() => writeBenchResult(r, { root: dir, path: join(dir, 'x.txt') })).toThrow(
      /writeBenchResult: invalid options\.path/,
    );
    expect(() => readCommittedResult(join(dir, 'x.json'), { rev: '--output=x.json' })).toThrow(
      /readCommittedResult: invalid options\.rev: must be a git revision/,
    );
    const def = { package: 'p', name: 'x', cases: [{ name: 'a', baseline: () => 1, method: () => 1 }] };
    await expect(runAndWrite(def, { repeats: 0, log: null })).rejects.toThrow(
      /runAndWrite: invalid options\.repeats/,
    );
    await expect(runAndWrite(def, { progres: true } as never)).rejects.toThrow(/Unrecognized key.*progres/);
    await expect(writeReport({ inDir: dir, outFile: join(dir, 'r.html') })).rejects.toThrow(
      /writeReport: invalid options\.outFile: must be a Markdown file/,
    );
    await expect(writeReport({ inDir: dir, outFile: join(dir, 'r.md'), title: '' })).rejects.toThrow(
      /renderReport: invalid options\.title/,
    );
  });
});
