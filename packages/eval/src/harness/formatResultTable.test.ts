import { describe, expect, it } from 'vitest';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { formatResultTable } from './formatResultTable.js';
import { formatMs, formatRate } from './formatTime.js';

describe('formatResultTable', () => {
  it('prints speed and quality side by side', async () => {
    const r = await syntheticResult();
    const text = formatResultTable(r);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^synthetic\/toy +\(median ± MAD of 9 interleaved runs; 95% bootstrap CI\)/);
    expect(lines[1]).toMatch(/^case +baseline +method +speed-up \(CI\) +throughput +quality$/);
    const sum = lines.find((l) => l.startsWith('sum'))!;
    expect(sum).toMatch(/loop: 4(\.\d+)? ms ± .* closed form: 2(\.\d+)? ms/);
    expect(sum).toMatch(/[12]\.\d+× \[\d\.\d+, \d\.\d+\]/);
    expect(sum).toMatch(/k?items\/s → .*items\/s/);
    expect(sum).toMatch(/PASS abs error = 0 \(= 0\)/);
    const md = formatResultTable(r, 'markdown');
    expect(md.split('\n')[1]).toBe('| --- | --- | --- | --- | --- | --- |');
    expect(md).toContain('| copy | baseline: ');
  });

  it('formats figures with adaptive units', () => {
    expect(formatMs(0.0123)).toBe('12.3 µs');
    expect(formatMs(1534)).toBe('1.53 s');
    expect(formatMs(2.5)).toBe('2.5 ms');
    expect(formatRate(25300, 'tok')).toBe('25.3 ktok/s');
    expect(formatRate(8150, 'tokens')).toBe('8.15 ktokens/s');
    expect(formatRate(999, 'tokens')).toBe('999 tokens/s');
  });
});
