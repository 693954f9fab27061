/**
 * @file Heun's second-order sampler (Karras et al., arXiv 2206.00364, Algorithm 1 without churn),
 * with diffusers' HeunDiscreteScheduler contract (huggingface/diffusers:src/diffusers/schedulers/
 * scheduling_heun_discrete.py): `timesteps` and `sigmas` repeat every interior entry, so the loop
 * calls the model twice per interval: first at σ (Euler predictor), then at σ_next (corrector):
 *   d = (x − x̂0(x, σ))/σ,  x̃ = x + (σ_next − σ)·d                         (first call)
 *   d' = (x̃ − x̂0(x̃, σ_next))/σ_next,  x_next = x + (σ_next − σ)·(d + d')/2  (second call)
 * The last interval to σ = 0 is a plain Euler step (its corrector would divide by 0).
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, eulerFamilySchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, parseOptions } from '../util';
import { SigmaScheduler } from './sigma-scheduler';

const NAME = 'HeunDiscreteScheduler';

export const HeunDiscreteSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  clipSample: z.boolean().default(false),
  clipSampleRange: z.number().positive().default(1),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type HeunDiscreteSchedulerOptions = z.input<typeof HeunDiscreteSchedulerOptions>;

export class HeunDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly config: z.output<typeof HeunDiscreteSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly order = 2;
  protected readonly name = NAME;
  protected readonly leadingSpacing: boolean;
  private state: { d: Sample; dt: number; x: Sample } | null = null;

  constructor(options?: HeunDiscreteSchedulerOptions) {
    super();
    this.config = parseOptions(NAME, HeunDiscreteSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.leadingSpacing = this.config.timestepSpacing === 'leading';
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = this.normaliseRequest(options);
    if (o.mu !== undefined) throw new Error(`${NAME}: mu is for flow-matching schedulers`);
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : eulerFamilySchedule(
          NAME,
          { ...this.config, alphasCumprod: this.alphasCumprod, finalSigmasType: 'zero' },
          o,
        );
    const sig = s.sigmas;
    const ts = s.timesteps;
    const sigmas = [sig[0]];
    for (let i = 1; i < sig.length - 1; i++) sigmas.push(sig[i], sig[i]);
    sigmas.push(sig[sig.length - 1]);
    const timesteps = [ts[0]];
    for (let i = 1; i < ts.length; i++) timesteps.push(ts[i], ts[i]);
    this.sigmas = Float64Array.from(sigmas);
    this.timesteps = Float64Array.from(timesteps);
    this.state = null;
  }

  /** True when the next call is the first (predictor) call of an interval. */
  get stateInFirstOrder(): boolean {
    return this.state === null;
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    checkSameLength(NAME, output, sample, 'model output');
    const i = this.initStepIndex(t);
    const first = this.state === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const next = first ? this.sigmas[i + 1] : this.sigmas[i];
    const sIn = first ? sigma : next;
    const x = f64(sample);
    const m = f64(output);
    const p = this.config.predictionType;
    const r = this.config.clipSampleRange;
    const x0 = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      let v =
        p === 'epsilon'
          ? x[k] - sIn * m[k]
          : p === 'sample'
            ? m[k]
            : m[k] * (-sIn / Math.sqrt(sIn * sIn + 1)) + x[k] / (sIn * sIn + 1);
      if (this.config.clipSample) v = Math.min(r, Math.max(-r, v));
      x0[k] = v;
    }
    const prev = new Float64Array(x.length);
    if (first) {
      const d = x.map((v, k) => (v - x0[k]) / sigma);
      const dt = next - sigma;
      for (let k = 0; k < x.length; k++) prev[k] = x[k] + d[k] * dt;
      this.state = { d, dt, x };
    } else {
      const st = this.state as { d: Sample; dt: number; x: Sample };
      for (let k = 0; k < x.length; k++) prev[k] = st.x[k] + 0.5 * (st.d[k] + (x[k] - x0[k]) / next) * st.dt;
      this.state = null;
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
