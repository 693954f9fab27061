import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { scriptedTree } from '../testing/toys';
import { beamSearch } from './beam-search';

// A depth-2 tree worked by hand. From '' the proposer returns a, b, c, d (in call order); from b: x, y;
// from d: z, w. PRM (score of the latest step):
const PRM: Record<string, number> = { a: 0.1, b: 0.9, c: 0.5, d: 0.55, bx: 0.3, by: 0.6, dz: 0.95, dw: 0.2 };
const tree = () => scriptedTree({ '': 'abcd', b: 'xy', d: 'zw' }, 2);
const scorer = (s: string) => PRM[s];

describe('beamSearch', () => {
  it('N = 4, M = 2: keeps b and d, expands [b, d, b, d], returns dz by the last-step score', async () => {
    const trace = await runStrategy(beamSearch({ proposer: tree(), scorer, budget: 4, beamWidth: 2 }));
    const byState = (s: string) => trace.candidates.find((c) => c.state === s)!;
    expect(trace.answer).toBe('dz');
    expect(['a', 'c'].map((s) => byState(s).status)).toEqual(['pruned', 'pruned']);
    expect(trace.decisions[0].detail.kept).toEqual([byState('b').id, byState('d').id]);
    expect(trace.candidates.filter((c) => c.step === 2).map((c) => c.state)).toEqual([
      'bx',
      'dz',
      'by',
      'dw',
    ]);
    expect(trace.calls.propose).toBe(8);
  });

  it("aggregation 'prod' ranks by the product of step scores: by (0.54) beats dz (0.5225)", async () => {
    const trace = await runStrategy(
      beamSearch({ proposer: tree(), scorer, budget: 4, beamWidth: 2, aggregation: 'prod' }),
    );
    expect(trace.answer).toBe('by');
  });

  it('needs N to be a multiple of M', () => {
    expect(() => beamSearch({ proposer: tree(), scorer, budget: 6, beamWidth: 4 })).toThrow(
      /multiple of 'beamWidth'/,
    );
  });
});
