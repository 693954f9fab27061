import { describe, expect, it } from 'vitest';
import type { Proposer } from './proposer';
import { beamSearch } from './strategies/beam-search';
import { particleFiltering } from './strategies/particle-filtering';
import { runStrategy } from './strategy';

/**
 * A proposer whose states stand for KV caches: `fork` makes a new handle, `release` frees one, and
 * proposing from or releasing a freed handle is recorded as a violation.
 */
function kvLike() {
  let next = 0;
  const live = new Set<number>();
  const log = { forks: 0, releases: 0, violations: [] as string[] };
  type H = { id: number; depth: number; bit: number };
  const make = (depth: number, bit: number): H => {
    const h = { id: next++, depth, bit };
    live.add(h.id);
    return h;
  };
  const proposer: Proposer<H> = {
    initial: () => make(0, 0),
    propose: (s, { rng }) => {
      if (!live.has(s.id)) log.violations.push(`propose from freed ${s.id}`);
      return make(s.depth + 1, rng.uniform(1)[0] < 0.5 ? 0 : 1);
    },
    done: (s) => s.depth >= 3,
    fork: (s) => {
      log.forks++;
      return make(s.depth, s.bit);
    },
    release: (s) => {
      if (!live.delete(s.id)) log.violations.push(`double release ${s.id}`);
      log.releases++;
    },
  };
  return { proposer, log };
}

describe('fork and release hooks', () => {
  it('particle filtering forks once per extra copy a resampling makes and releases particles left without descendants', async () => {
    const { proposer, log } = kvLike();
    const n = 8;
    const trace = await runStrategy(
      particleFiltering({ proposer, scorer: (s) => (s.bit ? 0.8 : 0.3), budget: n }),
      { seed: 3 },
    );
    const resamples = trace.decisions.filter((d) => d.kind === 'resample');
    const distinct = resamples.map((d) => new Set(d.detail.ancestors as number[]).size);
    // The root is forked n − 1 times; each resampling forks n − (distinct ancestors) copies and
    // releases the same number of particles.
    expect(log.forks).toBe(n - 1 + distinct.reduce((s, d) => s + (n - d), 0));
    expect(log.releases).toBe(distinct.reduce((s, d) => s + (n - d), 0));
    expect(log.violations).toEqual([]);
  });

  it('beam search forks the duplicated beams and releases the pruned ones, never proposing from a freed state', async () => {
    const { proposer, log } = kvLike();
    const trace = await runStrategy(
      beamSearch({ proposer, scorer: (s) => (s.bit ? 0.8 : 0.3), budget: 8, beamWidth: 4 }),
      {
        seed: 4,
      },
    );
    // Step 1: the root is copied 8 times (7 forks); steps 2, 3: 2 kept beams × 4 copies (6 forks each).
    expect(log.forks).toBe(7 + 6 + 6);
    // Steps 1 and 2 prune 8 − 2 beams each; at step 3 all 8 are done (completed, not released).
    expect(log.releases).toBe(12);
    expect(trace.candidates.filter((c) => c.status === 'pruned')).toHaveLength(12);
    expect(log.violations).toEqual([]);
  });
});
