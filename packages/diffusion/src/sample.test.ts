import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { type SampleOptions, sample } from './sample';
import { DDIMScheduler } from './schedulers/ddim';
import { DPMSolverMultistepScheduler } from './schedulers/dpm-solver-multistep';
import { EulerDiscreteScheduler } from './schedulers/euler-discrete';
import { FlowMatchEulerDiscreteScheduler } from './schedulers/flow-match-euler-discrete';
import { MIXTURE_2D } from './testing/convergence';
import { GaussianMixture } from './testing/gaussian-mixture';
import { compareWithTarget } from './testing/statistics';
import type { Denoiser, PredictionType } from './types';

/** Two overlapping classes: guidance visibly pushes samples of one class away from the other. */
const OVERLAP = new GaussianMixture({
  weights: [0.5, 0.5],
  means: [
    [-0.6, 0],
    [0.6, 0],
  ],
  stds: [0.6, 0.6],
  labels: [0, 1],
});

/** Readable reference: separate cond and uncond calls, CFG and rescale written out. */
function referenceCfg(
  mix: GaussianMixture,
  labels: number[],
  w: number,
  phi: number,
  z: Float64Array,
  steps: number,
): Float64Array {
  const s = new DPMSolverMultistepScheduler();
  const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
  s.setTimesteps(steps);
  let x: Float64Array = Float64Array.from(z);
  const n = labels.length;
  for (const t of s.timesteps) {
    const c = den(x, t, labels);
    const u = den(x, t, new Array(n).fill(null));
    const g = c.map((cv, k) => u[k] + w * (cv - u[k]));
    for (let b = 0; b < n; b++) {
      const sd = (a: Float64Array) => {
        const m = (a[2 * b] + a[2 * b + 1]) / 2;
        return Math.sqrt(((a[2 * b] - m) ** 2 + (a[2 * b + 1] - m) ** 2) / 2);
      };
      const f = phi * (sd(c) / sd(g)) + (1 - phi);
      g[2 * b] *= f;
      g[2 * b + 1] *= f;
    }
    x = s.step(g, t, x).prevSample;
  }
  return x;
}

describe('sample with classifier-free guidance', () => {
  it('batches cond and uncond into one call and equals the reference loop (scale 4, rescale 0.7)', () => {
    const labels = [0, 1, 2, 1];
    const z = rng(3).normal(8);
    const ref = referenceCfg(new GaussianMixture(MIXTURE_2D), labels, 4, 0.7, z, 12);
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new DPMSolverMultistepScheduler();
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = sample(s, den, {
      steps: 12,
      batch: 4,
      dim: 2,
      noise: z,
      cond: labels,
      guidanceScale: 4,
      guidanceRescale: 0.7,
    });
    for (let k = 0; k < 8; k++) expect(r.sample[k]).toBeCloseTo(ref[k], 10);
    expect(r.nfe).toBe(12);
    expect(den.calls).toBe(12);
    expect(r.itemEvaluations).toBe(12 * 8);
  });

  it('scale 1 samples the class-conditional target', () => {
    const s = new DPMSolverMultistepScheduler();
    const den = OVERLAP.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const n = 3000;
    const r = sample(s, den, { steps: 25, batch: n, dim: 2, generator: rng(8), cond: new Array(n).fill(1) });
    const st = compareWithTarget(OVERLAP, r.sample, 1);
    expect(st.meanZ).toBeLessThan(4);
    expect(st.covRelErr).toBeLessThan(0.08);
    expect(r.itemEvaluations).toBe(25 * n); // no unconditional branch at scale 1
  });

  it('a larger scale moves samples away from the other class', () => {
    const n = 2000;
    const frac = (w: number) => {
      const s = new EulerDiscreteScheduler();
      const den = OVERLAP.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      const r = sample(s, den, {
        steps: 30,
        batch: n,
        dim: 2,
        generator: rng(9),
        cond: new Array(n).fill(0),
        guidanceScale: w,
      });
      return OVERLAP.classify(r.sample).filter((j) => j === 0).length / n;
    };
    const [f1, f3] = [frac(1), frac(3)];
    expect(f1).toBeGreaterThan(0.75); // the class-0 component classified as class 0 (≈ Φ(1) overlap)
    expect(f3).toBeGreaterThan(f1 + 0.05);
  });

  it('the guidance interval switches guidance off outside (lo, hi]', () => {
    const z = rng(10).normal(4);
    const run = (interval?: [number, number]) => {
      const s = new EulerDiscreteScheduler();
      const den = OVERLAP.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      return sample(s, den, {
        steps: 10,
        batch: 2,
        dim: 2,
        noise: z,
        cond: [0, 1],
        guidanceScale: 5,
        guidanceInterval: interval,
      });
    };
    const none = run([1e6, 1e7]);
    const all = run([0, 1e7]);
    const plain = run(undefined);
    const s = new EulerDiscreteScheduler();
    const den = OVERLAP.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const unguided = sample(s, den, { steps: 10, batch: 2, dim: 2, noise: z, cond: [0, 1] });
    expect([...none.sample]).toEqual([...unguided.sample]);
    expect(none.itemEvaluations).toBe(20);
    expect([...all.sample]).toEqual([...plain.sample]);
    expect(all.itemEvaluations).toBe(40);
    const mid = run([0.5, 5]);
    expect(mid.itemEvaluations).toBeGreaterThan(20);
    expect(mid.itemEvaluations).toBeLessThan(40);
  });

  it('rejects bad options with the field name', () => {
    const s = new EulerDiscreteScheduler();
    const den = OVERLAP.denoiser({ kind: 've' }, 'sample');
    expect(() => sample(s, den, { steps: 4, batch: 2, dim: 2, cond: [0] })).toThrow(/'cond' has 1 entries/);
    expect(() => sample(s, den, { steps: 4, batch: 2, dim: 2 })).toThrow(/noise.*generator/);
    expect(() => sample(s, den, { steps: 4, batch: 2, dim: 2, guidance: 3 } as never)).toThrow(
      /guidance.*allowed/,
    );
    expect(() => sample(s, den, { steps: 4, batch: 2, dim: 2, noise: [1, 2, 3] })).toThrow(
      /'noise' has 3 values/,
    );
  });
});

describe('sample: cache option', () => {
  it('tells the cache the number of denoiser calls and the index of each call', () => {
    const events: string[] = [];
    const cache = {
      beginGeneration: (n: number) => events.push(`begin ${n}`),
      beginStep: (i: number) => events.push(`step ${i}`),
    };
    const denoiser = Object.assign((x: Float64Array) => x.map(() => 0), {
      predictionType: 'epsilon' as const,
    });
    const noise = new Float64Array(4).fill(1);
    const a = sample(new EulerDiscreteScheduler(), denoiser, { steps: 3, batch: 2, dim: 2, noise, cache });
    expect(events).toEqual(['begin 3', 'step 0', 'step 1', 'step 2']);
    const b = sample(new EulerDiscreteScheduler(), denoiser, { steps: 3, batch: 2, dim: 2, noise });
    expect(Array.from(a.sample)).toEqual(Array.from(b.sample));
    expect(() =>
      sample(new EulerDiscreteScheduler(), denoiser, {
        steps: 3,
        batch: 2,
        dim: 2,
        noise,
        cache: {} as never,
      }),
    ).toThrow(/option 'cache' is invalid: expected an object with beginGeneration/);
  });
});

describe('sample: residual CFG (StreamDiffusion RCFG)', () => {
  const mix = new GaussianMixture(MIXTURE_2D);
  const labels = [0, 1, 2, 1, 0, 2];
  const B = labels.length;

  /** The class-conditional exact denoiser, with the null branch replaced by `uncond(x, t)`. */
  function splitDenoiser(
    type: PredictionType,
    ac: Float64Array,
    uncond: (x: Float64Array, t: number) => Float64Array,
  ): Denoiser<(number | null)[]> & { uncondItems: number[] } {
    const dc = mix.denoiser({ kind: 'vp', alphasCumprod: ac }, type);
    const f = Object.assign(
      (x: Float64Array, t: number, c: (number | null)[] | null) => {
        const lab = c ?? new Array<number | null>(x.length / 2).fill(null);
        const a = dc(x, t, lab);
        const b = uncond(x, t);
        f.uncondItems.push(lab.filter((l) => l === null).length);
        return a.map((v, k) => (lab[k >> 1] === null ? b[k] : v));
      },
      { predictionType: type, uncondItems: [] as number[] },
    );
    return f;
  }

  it('skips the unconditional branch: self-negative never, onetime-negative only at the first step', () => {
    const s = new DPMSolverMultistepScheduler();
    const z = rng(5).normal(2 * B);
    const den = splitDenoiser('epsilon', s.alphasCumprod, (x) => x.map(() => 0));
    const self = sample(s, den, {
      steps: 12,
      batch: B,
      dim: 2,
      noise: z,
      cond: labels,
      guidanceScale: 3,
      rcfg: { mode: 'self-negative' },
    });
    expect(self.nfe).toBe(12);
    expect(self.itemEvaluations).toBe(12 * B);
    expect(den.uncondItems.reduce((a, b) => a + b, 0)).toBe(0);
    den.uncondItems.length = 0;
    const once = sample(new DPMSolverMultistepScheduler(), den, {
      steps: 12,
      batch: B,
      dim: 2,
      noise: z,
      cond: labels,
      guidanceScale: 3,
      rcfg: { mode: 'onetime-negative', delta: 0.5 },
    });
    expect(once.nfe).toBe(12);
    expect(once.itemEvaluations).toBe(12 * B + B);
    expect(den.uncondItems).toEqual([B, ...new Array(11).fill(0)]);
  });

  it('equals CFG exactly where the paper implies it: δ = 0 against a zero unconditional ε, one step against ε_u = the initial noise', () => {
    const z = rng(6).normal(2 * B);
    const run = (den: Denoiser<(number | null)[]>, steps: number, rcfg?: SampleOptions['rcfg']) =>
      sample(new DDIMScheduler({ clipSample: false }), den, {
        steps,
        batch: B,
        dim: 2,
        noise: z,
        cond: labels,
        guidanceScale: 4,
        rcfg,
      });
    const ac = new DDIMScheduler().alphasCumprod;
    const zero = splitDenoiser('epsilon', ac, (x) => x.map(() => 0));
    for (const mode of ['self-negative', 'onetime-negative'] as const) {
      expect(Array.from(run(zero, 10, { mode, delta: 0 }).sample)).toEqual(Array.from(run(zero, 10).sample));
    }
    const initial = splitDenoiser('epsilon', ac, (x) => x.map((_, k) => z[k % z.length]));
    expect(Array.from(run(initial, 1, { mode: 'self-negative' }).sample)).toEqual(
      Array.from(run(initial, 1).sample),
    );
  });

  it('equals CFG (to round-off) when the unconditional x̂0 never changes: the negative is a point mass', () => {
    // the exact denoiser of a point mass at m: its x̂0 is m at every noise level
    const point = new GaussianMixture({ weights: [1], means: [[0.3, -0.4]], stds: [1e-9] });
    const z = rng(7).normal(2 * B);
    for (const type of ['epsilon', 'v_prediction'] as const) {
      for (const mk of [
        () => new DDIMScheduler({ clipSample: false, predictionType: type }),
        () => new DPMSolverMultistepScheduler({ predictionType: type }),
      ]) {
        const ac = mk().alphasCumprod;
        const neg = point.denoiser({ kind: 'vp', alphasCumprod: ac }, type);
        const den = splitDenoiser(type, ac, (x, t) => neg(x, t, null));
        const opts = { steps: 15, batch: B, dim: 2, noise: z, cond: labels, guidanceScale: 3 };
        const cfg = sample(mk(), den, opts).sample;
        const r = sample(mk(), den, { ...opts, rcfg: { mode: 'onetime-negative' } }).sample;
        for (let k = 0; k < cfg.length; k++) expect(Math.abs(r[k] - cfg[k])).toBeLessThan(1e-9);
      }
    }
  });

  it('on a Gaussian mixture, stays close to CFG over the high-noise steps, where the unconditional x̂0 barely moves', () => {
    const n = 300;
    const z = rng(4).normal(2 * n);
    const cond = Array.from({ length: n }, (_, i) => i % 3);
    const rms = (a: Float64Array, b: Float64Array) =>
      Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0) / a.length);
    const run = (o: Partial<SampleOptions>) => {
      const s = new DDIMScheduler({ clipSample: false });
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      // four steps from t = 999 to 699 (σ 157 → 12), then DDIM's final jump to x̂0
      return sample(s, den, {
        timesteps: [999, 899, 799, 699],
        batch: n,
        dim: 2,
        noise: z,
        cond,
        guidanceScale: 1.5,
        ...o,
      }).sample;
    };
    const cfg = run({});
    const effect = rms(cfg, run({ guidanceScale: 1 }));
    const gap = rms(run({ rcfg: { mode: 'onetime-negative' } }), cfg);
    // measured: guidance moves the samples by 0.88 (RMS), RCFG lands 0.11 from CFG
    expect(effect).toBeGreaterThan(0.5);
    expect(gap).toBeLessThan(0.2 * effect);
  });

  it('rejects rcfg with a guidance interval, unknown keys and a flow schedule that starts at σ = 1', () => {
    const s = new DDIMScheduler();
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const base = { steps: 4, batch: 2, dim: 2, noise: [0, 0, 0, 0], cond: [0, 1], guidanceScale: 2 };
    expect(() =>
      sample(s, den, { ...base, rcfg: { mode: 'self-negative' }, guidanceInterval: [0, 10] }),
    ).toThrow(/'rcfg' and 'guidanceInterval' cannot be combined/);
    expect(() => sample(s, den, { ...base, rcfg: { mode: 'self-negative', gamma: 1 } as never })).toThrow(
      /gamma/,
    );
    expect(() => sample(s, den, { ...base, rcfg: { mode: 'twice' } as never })).toThrow(/rcfg/);
    const flow = new FlowMatchEulerDiscreteScheduler();
    const fden = mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction');
    expect(() => sample(flow, fden, { ...base, rcfg: { mode: 'self-negative' } })).toThrow(
      /rcfg needs 0 < σ and α > 0/,
    );
  });
});
