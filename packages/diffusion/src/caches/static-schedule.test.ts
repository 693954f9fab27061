import { describe, expect, it } from 'vitest';
import { ScriptedDiT, scriptedDecisions, toyModel } from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { staticSchedule } from './static-schedule';

describe('staticSchedule', () => {
  const schedule = [
    [1, 1, 1],
    [0, 1, 0],
    [1, 0, 1],
    [1, 1, 1],
  ];

  it('follows the table, with residual reuse on a DiT (hand-worked), and survives a JSON round trip', () => {
    const model = new ScriptedDiT(3, (i, t) => (i + 1) * (t + 1));
    const parsed = JSON.parse(JSON.stringify({ schedule }));
    const cached = cachedDenoiser(model, staticSchedule(parsed));
    expect(scriptedDecisions(cached, 4)).toEqual(['CCC', 'RCR', 'CRC', 'CCC']);
    cached.beginGeneration(4);
    cached(Float64Array.of(0), 0, [null]);
    // Step 1: r0(0) = 1, r1(1) = 4, r2(0) = 3.
    expect(cached(Float64Array.of(0), 1, [null])[0]).toBe(1 + 4 + 3);
    // Step 2: r0(2) = 3, r1(1) = 4 (block 1 was last computed at step 1), r2(2) = 9.
    expect(cached(Float64Array.of(0), 2, [null])[0]).toBe(3 + 4 + 9);
  });

  it('computes a reuse entry when the guards or an empty cache say so', () => {
    const model = new ScriptedDiT(2, () => 1);
    const cached = cachedDenoiser(
      model,
      staticSchedule({
        schedule: [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      }),
    );
    expect(scriptedDecisions(cached, 3)).toEqual(['CC', 'RR', 'CC']);
  });

  it('on a UNet substitutes balanced spans with their last computed output and rejects unbalanced ones', () => {
    const model = toyModel('unet');
    const cached = cachedDenoiser(
      model,
      staticSchedule({
        schedule: [
          [1, 1, 1, 1, 1],
          [1, 0, 0, 0, 1],
          [1, 1, 0, 1, 1],
        ],
      }),
    );
    cached.beginGeneration(3);
    const x = new Float64Array(model.sampleSize).fill(0.3);
    cached(x, 900, [null]);
    const second = cached(x, 800, [null]);
    // Readable reference: block 0 at t = 800, then blocks 1–3's output from the t = 900 pass, block 4.
    const old = model.begin(x, 900, [null]);
    for (let i = 0; i < 4; i++) old.runBlock(i);
    const now = model.begin(x, 800, [null]);
    now.runBlock(0);
    now.hidden = old.hidden;
    now.shape = old.shape;
    now.runBlock(4);
    expect(Array.from(second)).toEqual(Array.from(now.finish()));
    expect(cached.stats().trace.map((e) => e.blocks)).toEqual(['CCCCC', 'CRRRC']);
    expect(() => cachedDenoiser(model, staticSchedule({ schedule: [[1, 0, 0, 1, 1]] }))).toThrow(
      /row 0 reuses blocks \[1, 3\), which is not a balanced span/,
    );
  });

  it('checks the table against the model and the generation', () => {
    expect(() =>
      cachedDenoiser(new ScriptedDiT(2, () => 1), staticSchedule({ schedule: [[1, 1, 1]] })),
    ).toThrow(/row 0 has 3 entries, the model has 2 blocks/);
    const cached = cachedDenoiser(new ScriptedDiT(2, () => 1), staticSchedule({ schedule: [[1, 1]] }));
    cached.beginGeneration(2);
    expect(() => cached(Float64Array.of(0), 0, [null])).toThrow(
      /1 rows, the generation has 2 denoiser calls/,
    );
    expect(() => staticSchedule({ schedule: [[1, 2]] } as never)).toThrow(/option 'schedule.0.1' is invalid/);
  });
});
