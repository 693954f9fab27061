import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// The README's example is this folder's quickstart.ts, verbatim; the test runs it.

describe('README example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is quickstart.ts, verbatim', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = readme.split('## Example')[1]!.split('```ts\n')[1]!.split('```')[0]!;
    expect(block).toBe(readFileSync(join(__dirname, 'quickstart.ts'), 'utf8'));
  });

  it('runs and prints what its comments say', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    await import('./quickstart.js');
    expect(Number(lines[0])).toBeCloseTo(0.4976, 4);
    expect(Number(lines[1])).toBeCloseTo(1, 12);
    expect(lines[2]).toMatch(/^demo\/sum +\(median ± MAD of 10 interleaved runs; 95% bootstrap CI\)/);
    expect(lines[2]).toMatch(/sum of squares +reduce: .* for loop: .*× \[.*\] +PASS relative error = /);
  });
});
