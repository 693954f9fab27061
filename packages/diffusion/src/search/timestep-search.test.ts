import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { sample } from '../sample';
import { DPMSolverMultistepScheduler } from '../schedulers/dpm-solver-multistep';
import { FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-match-euler-discrete';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { loadTimestepPreset, timestepPresetOptions, timestepSearch } from './timestep-search';

const target = new GaussianMixture({
  weights: [0.3, 0.3, 0.4],
  means: [
    [-1.5, 0.5],
    [1, -1],
    [0.5, 1.5],
  ],
  stds: [0.3, 0.4, 0.25],
  labels: [0, 1, 2],
});
const NFE = 6;

describe('timestepSearch', () => {
  it('DPM-Solver++ 2M on a Gaussian mixture: the searched σ beat default, Karras, λ-uniform and exponential spacing at equal NFE on held-out noise (exact ODE)', async () => {
    const scheduler = () => new DPMSolverMultistepScheduler();
    const model = target.denoiser({ kind: 'vp', alphasCumprod: scheduler().alphasCumprod }, 'epsilon');
    const probe = scheduler();
    probe.setTimesteps(NFE);
    const s0 = probe.sigmas[0];
    const exact = (noise: Float64Array) =>
      target.odeSolve(
        noise.map((v) => v * Math.sqrt(1 + s0 * s0)),
        s0,
        0,
        400,
      );
    const calibration = rng(1).normal(64 * 2);
    const { preset, history } = await timestepSearch({
      denoiser: model,
      modelName: 'mixture-3',
      sampler: 'dpm-solver++-2m',
      scheduler,
      nfe: NFE,
      space: 'vp',
      calibration: { noise: calibration, dim: 2 },
      reference: { samples: exact(calibration), label: 'exact ODE (RK4, 400 steps)' },
      search: { populationSize: 16, budget: 300, seed: 0 },
    });
    expect(preset.sigmas).toHaveLength(NFE + 1);
    expect(preset.sigmas[0]).toBe(s0);
    expect(preset.calibration.rms).toBeLessThan(preset.calibration.defaultRms);
    expect(history[history.length - 1].rms).toBe(preset.calibration.rms);

    // Held-out noise (another seed, 256 items), compared with the exact ODE solution from the same noise.
    const held = rng(2).normal(256 * 2);
    const ref = exact(held);
    const rms = (x: Float64Array) => Math.sqrt(x.reduce((a, v, i) => a + (v - ref[i]) ** 2, 0) / x.length);
    const run = (
      make: () => DPMSolverMultistepScheduler,
      schedule: { steps: number } | { sigmas: number[] },
    ) => {
      const s = make();
      const r = sample(s, model, { batch: 256, dim: 2, noise: held, ...schedule });
      expect(r.nfe).toBe(NFE);
      return rms(r.sample);
    };
    const searched = run(scheduler, timestepPresetOptions(JSON.parse(JSON.stringify(preset))));
    const handSet = (['default', 'karras', 'lu', 'exponential'] as const).map((sigmaSpacing) =>
      run(() => new DPMSolverMultistepScheduler({ sigmaSpacing }), { steps: NFE }),
    );
    // Measured at these seeds: searched ≈ 0.07, hand-set ≥ 0.17; require a 1.5× margin.
    expect(searched).toBeLessThan(Math.min(...handSet) / 1.5);
  });

  it('FlowMatch Euler: the default reference (same sampler at 100 steps) and a preset that the scheduler loads', async () => {
    const scheduler = () => new FlowMatchEulerDiscreteScheduler();
    const model = target.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction');
    const calibration = rng(3).normal(48 * 2);
    const { preset } = await timestepSearch({
      denoiser: model,
      sampler: 'flowmatch-euler',
      scheduler,
      nfe: 4,
      space: 'flow',
      calibration: { noise: calibration, dim: 2 },
      search: { populationSize: 12, budget: 150, seed: 1 },
    });
    expect(preset.sigmas).toHaveLength(4);
    expect(preset.sigmas[0]).toBe(1);
    expect(preset.calibration.reference).toMatch(/100 steps/);
    const s = scheduler();
    s.setTimesteps(timestepPresetOptions(preset, { sampler: 'flowmatch-euler' }));
    expect(Array.from(s.sigmas)).toEqual([...preset.sigmas, 0]);
    // Held-out: closer to the 100-step reference than the default spacing.
    const held = rng(4).normal(256 * 2);
    const base = { batch: 256, dim: 2, noise: held };
    const ref = sample(scheduler(), model, { ...base, steps: 100 }).sample;
    const rms = (x: Float64Array) => Math.sqrt(x.reduce((a, v, i) => a + (v - ref[i]) ** 2, 0) / x.length);
    const searched = rms(sample(scheduler(), model, { ...base, sigmas: preset.sigmas }).sample);
    const uniform = rms(sample(scheduler(), model, { ...base, steps: 4 }).sample);
    expect(searched).toBeLessThan(uniform);
  });

  it('presets round-trip through JSON; bad presets give errors naming the field', () => {
    const good = {
      kind: 'hasten.timestep-schedule/1',
      method: 'timestep-search',
      model: 'm',
      sampler: 'dpm-solver++-2m',
      nfe: 3,
      space: 'vp',
      guidanceScale: 1,
      sigmas: [80, 2, 0.1, 0],
      calibration: { items: 8, reference: 'exact ODE', rms: 0.01, defaultRms: 0.02 },
      search: { evaluations: 10, generations: 2, populationSize: 4, seed: 0 },
    };
    expect(loadTimestepPreset(JSON.stringify(good))).toEqual(good);
    expect(timestepPresetOptions(good)).toEqual({ sigmas: [80, 2, 0.1, 0] });
    expect(() => loadTimestepPreset({ ...good, sigmas: [80, 0.1, 2, 0] })).toThrow(
      /timestep schedule preset: field 'sigmas.2' is invalid: 2 is not below the previous value/,
    );
    expect(() => loadTimestepPreset({ ...good, sigmas: [80, 2, 0] })).toThrow(
      /field 'sigmas' is invalid: has 3 values; vp at nfe 3 needs 4/,
    );
    expect(() => loadTimestepPreset({ ...good, sigmas: [80, 2, 0.1, 0.05] })).toThrow(
      /field 'sigmas.3' is invalid: the final VP sigma must be 0/,
    );
    expect(() => loadTimestepPreset({ ...good, space: 've' })).toThrow(/field 'space' is invalid/);
    expect(() => loadTimestepPreset({ ...good, extra: 1 })).toThrow(/Unrecognized key: "extra"/);
    expect(() => loadTimestepPreset('{ not json')).toThrow(/timestep schedule preset: not valid JSON/);
    expect(() => timestepPresetOptions(good, { sampler: 'euler' })).toThrow(
      /field 'sampler' is dpm-solver\+\+-2m, the caller runs euler/,
    );
  });
});
