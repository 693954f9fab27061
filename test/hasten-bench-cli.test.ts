// `npx hasten-bench` as packages/eval/README.md documents it, from the repository root of a fresh
// clone (no dist/): the bin npm links must be the workspace's, run from the TypeScript sources.
import { describe, expect, it } from 'vitest';
import { npx } from './npx';

// Offline: if the bin were not linked, npx would fetch a package of that name from the registry.
const offline = { npm_config_offline: 'true' };

describe('npx hasten-bench', () => {
  it('--help lists the run, report and compare commands', async () => {
    const r = await npx(['hasten-bench', '--help'], offline);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: hasten-bench /);
    for (const command of ['run', 'report', 'compare'])
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it("runs a .ts bench module (the README's `run`), writing nothing", async () => {
    const r = await npx(
      [
        'hasten-bench',
        'run',
        'packages/eval/bench/passAtK.bench.ts',
        '--repeats',
        '2',
        '--warmup',
        '0',
        '--no-write',
        '--no-progress',
      ],
      offline,
    );
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/^eval\/pass-at-k {2}\(median ± MAD of 2 interleaved runs/m);
    expect(r.stdout).toMatch(/n=200, all k .* PASS max abs error/);
  }, 300_000);
});
