import { describe, expect, it } from 'vitest';
import { type BlockDenoiser, fullForward } from '../block-denoiser';
import {
  relativeError,
  ScriptedDiT,
  scriptedDecisions,
  TOY_BATCH,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { type CachePolicy, cachedDenoiser } from './cached-denoiser';
import { deepCache } from './deep-cache';
import { deltaDiT } from './delta-dit';
import { firstBlockCache } from './first-block-cache';
import { fora } from './fora';
import { magCache } from './mag-cache';
import { ras } from './ras';
import { staticSchedule } from './static-schedule';
import { taylorSeer } from './taylor-seer';
import { teaCache } from './tea-cache';
import { toCa } from './to-ca';

const STEPS = 12;

/** Each policy with settings under which it never reuses a feature. */
const NO_REUSE: [string, 'dit' | 'unet', () => CachePolicy<unknown>][] = [
  [
    'staticSchedule dit',
    'dit',
    () => staticSchedule({ schedule: Array.from({ length: STEPS }, () => new Array(6).fill(1)) }),
  ],
  [
    'staticSchedule unet',
    'unet',
    () => staticSchedule({ schedule: Array.from({ length: STEPS }, () => new Array(5).fill(1)) }),
  ],
  ['deepCache', 'unet', () => deepCache({ cacheInterval: 1 })],
  ['fora', 'dit', () => fora({ cacheInterval: 1 })],
  ['deltaDiT', 'dit', () => deltaDiT({ cacheInterval: 1 })],
  ['firstBlockCache', 'dit', () => firstBlockCache({ threshold: 0 })],
  ['teaCache dit', 'dit', () => teaCache({ relL1Thresh: 0 })],
  ['teaCache unet', 'unet', () => teaCache({ relL1Thresh: 0 })],
  ['magCache dit', 'dit', () => magCache({ magRatios: [1], maxSkipSteps: 0 })],
  ['magCache unet', 'unet', () => magCache({ magRatios: [1], maxSkipSteps: 0 })],
  ['taylorSeer', 'dit', () => taylorSeer({ cacheInterval: 1 })],
  // Every token through the partial path: still bit-identical.
  ['toCa (freshRatio 1)', 'dit', () => toCa({ freshThreshold: 3, freshRatio: 1 })],
  ['ras (sampleRatio 1)', 'dit', () => ras({ sampleRatio: 1, schedulerStartStep: 2 })],
];

describe('cachedDenoiser', () => {
  const reference = {
    dit: toyRun(toyModel('dit'), fullForward(toyModel('dit')), STEPS),
    unet: toyRun(toyModel('unet'), fullForward(toyModel('unet')), STEPS),
  };

  it.each(NO_REUSE)(
    '%s with reuse disabled is bit-identical to fullForward over a guided sample() run',
    (_n, arch, make) => {
      const model = toyModel(arch);
      const cached = cachedDenoiser(model, make());
      const out = toyRun(model, cached, STEPS, cached);
      expect(Array.from(out)).toEqual(Array.from(reference[arch]));
      expect(cached.stats().reused).toBe(0);
    },
  );

  it.each([
    ['fora', 'dit', () => fora({ cacheInterval: 100 })],
    ['deepCache', 'unet', () => deepCache({ cacheInterval: 100 })],
    ['teaCache', 'unet', () => teaCache({ relL1Thresh: 100 })],
  ] as const)('%s with a cap of 0 consecutive reuses is bit-identical to fullForward', (_n, arch, make) => {
    const model = toyModel(arch);
    const cached = cachedDenoiser(model, make() as CachePolicy<unknown>, { maxConsecutiveReuse: 0 });
    expect(Array.from(toyRun(model, cached, STEPS, cached))).toEqual(Array.from(reference[arch]));
  });

  it('splits a CFG batch into one pass per branch and the statistics add up', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, toCa({ freshThreshold: 3, freshRatio: 0.25 }));
    toyRun(model, cached, STEPS, cached);
    const s = cached.stats();
    expect(s.steps).toBe(STEPS);
    expect(s.trace).toHaveLength(2 * STEPS);
    expect(s.trace.every((e) => e.items === TOY_BATCH)).toBe(true);
    expect(s.trace.filter((e) => e.branch === 'uncond')).toHaveLength(STEPS);
    for (const b of ['cond', 'uncond'] as const) {
      const c = s.perBranch[b];
      expect(c.passes).toBe(STEPS);
      expect(c.computed + c.partial + c.reused).toBe(STEPS * model.numBlocks);
    }
    expect(s.computed + s.partial + s.reused).toBe(2 * STEPS * model.numBlocks);
    expect(s.partial).toBeGreaterThan(0);
    // The toy model counts its own evaluations per item (a 2-of-8-token pass counts 1/4).
    expect(model.blockEvaluations).toBeCloseTo(TOY_BATCH * s.blockEvaluations, 9);
    const fromTrace = s.trace.reduce((a, e) => a + [...e.blocks].filter((c) => c === 'C').length, 0);
    expect(s.computed).toBe(fromTrace);
  });

  it('computes every block at the first and last step and during warm-up', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, fora({ cacheInterval: 100 }), { warmupSteps: 4 });
    toyRun(model, cached, STEPS, cached);
    const { trace, reused } = cached.stats();
    for (const e of trace) {
      if (e.step < 4 || e.step === STEPS - 1) expect(e.blocks).toBe('CCCCCC');
      else expect(e.blocks).toBe('RRRRRR');
    }
    expect(reused).toBe(2 * (STEPS - 5) * 6);
  });

  it('never reuses a block more than maxConsecutiveReuse times in a row', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, fora({ cacheInterval: 100 }), { maxConsecutiveReuse: 2 });
    toyRun(model, cached, STEPS, cached);
    const { trace, reused } = cached.stats();
    expect(reused).toBeGreaterThan(0);
    for (const branch of ['cond', 'uncond']) {
      const rows = trace.filter((e) => e.branch === branch).map((e) => e.blocks);
      for (let i = 0; i < 6; i++) {
        const column = rows.map((r) => r[i]).join('');
        expect(column).not.toMatch(/RRR/);
        expect(column).toBe('CRRCRRCRRCRC');
      }
    }
  });

  it('reusing policies cut block evaluations and stay within 10% (relative L2) of the uncached sample', () => {
    const runs: [string, 'dit' | 'unet', CachePolicy<unknown>][] = [
      ['fora', 'dit', fora()],
      ['deepCache', 'unet', deepCache()],
      ['teaCache', 'unet', teaCache()],
    ];
    for (const [, arch, policy] of runs) {
      const model = toyModel(arch);
      const cached = cachedDenoiser(model, policy);
      const out = toyRun(model, cached, STEPS, cached);
      expect(cached.stats().blockEvaluations).toBeLessThan(2 * STEPS * model.numBlocks);
      expect(relativeError(out, reference[arch])).toBeLessThan(0.1);
    }
  });

  it.each([
    [
      'staticSchedule',
      'dit',
      () => staticSchedule({ schedule: Array.from({ length: STEPS }, () => new Array(6).fill(0)) }),
    ],
    ['deepCache', 'unet', () => deepCache({ cacheInterval: 100 })],
    ['fora', 'dit', () => fora({ cacheInterval: 100 })],
    ['deltaDiT', 'dit', () => deltaDiT({ cacheInterval: 100 })],
    ['firstBlockCache', 'dit', () => firstBlockCache({ threshold: 100 })],
    ['teaCache', 'unet', () => teaCache({ relL1Thresh: 100 })],
    [
      'magCache',
      'dit',
      () => magCache({ magRatios: [1], threshold: 100, maxSkipSteps: 100, retentionRatio: 0 }),
    ],
    ['taylorSeer', 'dit', () => taylorSeer({ cacheInterval: 100, disableCacheBeforeStep: 0 })],
    ['toCa', 'dit', () => toCa({ freshThreshold: 100, freshRatio: 0.25 })],
    ['ras', 'dit', () => ras({ schedulerStartStep: 0, errorResetSteps: [] })],
  ] as const)('%s set to reuse always still respects warm-up, last step and the cap', (_n, arch, make) => {
    const model = toyModel(arch);
    const cached = cachedDenoiser(model, make() as CachePolicy<unknown>, {
      warmupSteps: 2,
      maxConsecutiveReuse: 2,
    });
    toyRun(model, cached, STEPS, cached);
    const { trace, reused, partial } = cached.stats();
    expect(reused + partial).toBeGreaterThan(0);
    for (const e of trace) if (e.step < 2 || e.step === STEPS - 1) expect(e.blocks).toMatch(/^C+$/);
    for (const branch of ['cond', 'uncond']) {
      const rows = trace.filter((e) => e.branch === branch).map((e) => e.blocks);
      for (let i = 0; i < model.numBlocks; i++) expect(rows.map((r) => r[i]).join('')).not.toMatch(/[RP]{3}/);
    }
  });

  it('keeps one state per guidance branch', () => {
    // Block 0's residual changes little for the conditional item and a lot for the unconditional
    // one (cond label 1 scales the change), so only the conditional branch skips.
    const model = new ScriptedDiT(3, (i, t) => 1 + (i === 0 ? 0.01 * t : 0));
    const scaled = new ScriptedDiT(3, (i, t) => 1 + (i === 0 ? 0.5 * t : 0));
    const routed: BlockDenoiser<number> = {
      predictionType: 'epsilon',
      architecture: 'dit',
      numBlocks: 3,
      sampleSize: 1,
      balancedSpan: () => true,
      begin: (x, t, cond) => (cond[0] === null ? scaled : model).begin(x, t, cond),
    };
    const cached = cachedDenoiser(routed, firstBlockCache({ threshold: 0.1 }));
    cached.beginGeneration(4);
    for (let k = 0; k < 4; k++) cached(new Float64Array(2), k, [1, null]);
    const byBranch = (b: string) =>
      cached
        .stats()
        .trace.filter((e) => e.branch === b)
        .map((e) => e.blocks);
    expect(byBranch('cond')).toEqual(['CCC', 'CRR', 'CRR', 'CCC']);
    expect(byBranch('uncond')).toEqual(['CCC', 'CCC', 'CCC', 'CCC']);
  });

  it('needs a generation: a call before beginGeneration or past its end is an error', () => {
    const cached = cachedDenoiser(new ScriptedDiT(2, () => 1), fora());
    expect(() => cached(new Float64Array(1), 0, [null])).toThrow(/beginGeneration/);
    cached.beginGeneration(1);
    cached(new Float64Array(1), 0, [null]);
    expect(() => cached(new Float64Array(1), 1, [null])).toThrow(/call 2 of a generation of 1/);
    expect(() => cached.beginGeneration(0)).toThrow(/positive integer/);
    expect(scriptedDecisions(cached, 3)).toEqual(['CC', 'RR', 'CC']);
  });

  it('rejects unsupported combinations and bad options with the field named', () => {
    expect(() => cachedDenoiser(toyModel('dit'), deepCache())).toThrow(/deepCache: needs a UNet/);
    for (const make of [fora, deltaDiT, firstBlockCache, taylorSeer, toCa, ras])
      expect(() => cachedDenoiser(toyModel('unet'), make())).toThrow(/needs a DiT/);
    const unet = toyModel('unet');
    const pass = unet.begin(new Float64Array(unet.sampleSize), 500, [null]);
    expect(() => pass.runBlock(0, { tokens: Int32Array.of(0) })).toThrow(/'tokens' is DiT-only/);
    expect(() => cachedDenoiser(toyModel('dit'), fora(), { maxConsecutiveReuse: -1 })).toThrow(
      /maxConsecutiveReuse/,
    );
    expect(() => cachedDenoiser(toyModel('dit'), fora(), { warmup: 2 } as never)).toThrow(
      /Unrecognized key: "warmup"; allowed: warmupSteps, maxConsecutiveReuse/,
    );
  });
});
