import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import {
  relativeError,
  ScriptedDiT,
  scriptedDecisions,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { deltaDiT } from './delta-dit';

describe('deltaDiT', () => {
  // Block i adds (i + 1)·(t + 1).
  const model = new ScriptedDiT(4, (i, t) => (i + 1) * (t + 1));
  const options = { cacheInterval: 2, gateStep: 3, cachedBlocks: 2 };

  it('skips the rear blocks before the gate step and the front blocks after it (hand-worked)', () => {
    const cached = cachedDenoiser(model, deltaDiT(options));
    expect(scriptedDecisions(cached, 7)).toEqual(['CCCC', 'CCRR', 'CCCC', 'RRCC', 'CCCC', 'RRCC', 'CCCC']);
  });

  it('adds the cached offset Δ of the skipped span to the current input', () => {
    const cached = cachedDenoiser(model, deltaDiT(options));
    cached.beginGeneration(7);
    cached(Float64Array.of(0), 0, [null]);
    // Step 1: blocks 0, 1 at t = 1 (2 + 4) plus Δ_rear of step 0 (3 + 4).
    expect(cached(Float64Array.of(0), 1, [null])[0]).toBe(6 + 7);
    cached(Float64Array.of(0), 2, [null]);
    // Step 3: Δ_front of step 2 ((1 + 2)·3) plus blocks 2, 3 at t = 3 ((3 + 4)·4).
    expect(cached(Float64Array.of(0), 3, [null])[0]).toBe(9 + 28);
  });

  it('cuts block evaluations on the toy DiT and stays within 5% of the uncached sample', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const m = toyModel('dit');
    const cached = cachedDenoiser(m, deltaDiT());
    const out = toyRun(m, cached, 20, cached);
    // Odd steps 1…17 (9 of them) skip 3 of 6 blocks; step 19 is the last step.
    expect(cached.stats().blockEvaluations).toBe(2 * (20 * 6 - 9 * 3));
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('checks its options', () => {
    expect(() => cachedDenoiser(model, deltaDiT({ cachedBlocks: 5 }))).toThrow(
      /'cachedBlocks' \(5\) must be in \[1, 4\]/,
    );
    expect(() => deltaDiT({ gateStep: -1 })).toThrow(/option 'gateStep'/);
  });
});
