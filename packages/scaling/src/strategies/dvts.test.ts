import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scriptedTree } from '../testing/toys';
import { dvts } from './dvts';

const PRM: Record<string, number> = { a: 0.1, b: 0.9, c: 0.5, d: 0.55, bx: 0.3, by: 0.6, dz: 0.95, dw: 0.2 };

describe('dvts', () => {
  it('two independent subtrees: one picks b over a, the other d over c; then by and dz; answer dz', async () => {
    const trace = await runStrategy(
      dvts({
        proposer: scriptedTree({ '': 'abcd', b: 'xy', d: 'zw' }, 2),
        scorer: (s) => PRM[s],
        budget: 4,
        beamWidth: 2,
      }),
    );
    const chosen = trace.decisions.filter((d) => d.kind === 'select' && 'subtree' in d.detail);
    const stateOf = (id: unknown) => trace.candidates[id as number].state;
    expect(chosen.map((d) => [d.step, d.detail.subtree, stateOf(d.detail.chosen)])).toEqual([
      [1, 0, 'b'],
      [1, 1, 'd'],
      [2, 0, 'by'],
      [2, 1, 'dz'],
    ]);
    expect(trace.answer).toBe('dz');
    // Unlike beam search (which keeps the top N/M overall), a subtree keeps its own best even when
    // the other subtree's candidates all score higher.
    expect(trace.candidates.filter((c) => c.status === 'complete').map((c) => c.state)).toEqual([
      'bx',
      'by',
      'dz',
      'dw',
    ]);
  });
});
