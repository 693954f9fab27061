import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { collectEnvironment } from './collectEnvironment.js';
import { loadHeldoutFiles } from './loadHeldoutFiles.js';
import { findRepoRoot } from './repoRoot.js';
import { readBenchResult, readResultsDir, resultPath, writeBenchResult } from './resultFiles.js';

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
    expect(all.skipped[0]).toMatch(/notes\.json: .*not a valid hasten\.bench\/1 result/);
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
});
