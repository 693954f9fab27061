/**
 * @file The step-wise diffusion adapter: a `Proposer` whose state is (x_t, step index) over a
 * diffusers-contract `Scheduler` and a `Denoiser` of @hasten/diffusion, for the particle methods that
 * steer a sampler with a reward on partial states: FK steering (Singhal et al. arXiv 2501.06848),
 * particle filtering (Puri et al. arXiv 2502.01618), diffusion tree sampling (Jain et al.
 * arXiv 2506.20701). One `propose` is one scheduler step, one denoiser call (cost = 1 NFE):
 *   out = D(scaleModelInput(x_t), t_i, cond),   (x_{t_{i+1}}, x̂0) = scheduler.step(out, t_i, x_t),
 * stochastic schedulers (DDPM, DDIM η > 0, Euler ancestral) drawing their noise from the call's own
 * generator (ctx.rng), so a run's seed reproduces it. With classifier-free guidance (Ho & Salimans
 * arXiv 2207.12598) out = u + w·(c − u) from one batched call on [x; x] with conditions [cond, null]. The state exposes the Tweedie estimate
 *   x̂0 = E[x_0 | x_t]
 * that the step formed (the scheduler's `predOriginalSample`; a scheduler without one needs the
 * `tweedie` option), which rewards read on partial states; once done, x̂0 is the final sample itself.
 * The initial state is x_T = initNoiseSigma · z, z ~ N(0, I) from ctx.rng.
 *
 * Schedulers keep per-run state (a step index, multistep history), so each call steps a fresh
 * scheduler from the `scheduler` factory, positioned at the state's index. That is exact for the
 * one-call-per-step schedulers whose update depends on the current step alone (DDPM, DDIM, Euler,
 * Euler ancestral, FlowMatch Euler, LCM); multistep and two-call solvers (DPM-Solver++ 2M/3M and
 * singlestep, UniPC, DEIS, PNDM, Heun) would need their history inside the state and are refused:
 * use them from a noise through `diffusionNoiseProposer`.
 */
import {
  DEISMultistepScheduler,
  type Denoiser,
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  FlowMatchHeunDiscreteScheduler,
  HeunDiscreteScheduler,
  PNDMScheduler,
  type Scheduler,
  UniPCMultistepScheduler,
} from '@hasten/diffusion';
import { z } from 'zod';
import { ScalingError } from '../errors';
import { fn, parseOptions } from '../options';
import type { ProposeContext, Proposer, Scorer } from '../proposer';

const WHERE = 'diffusionProposer';

export interface DiffusionState {
  /** x_t after `step` scheduler steps (x_T at step 0, the sample once done). */
  readonly x: Float64Array;
  /** Scheduler steps taken. */
  readonly step: number;
  /** The timestep x is at (the next one the model is called at), or null once done. */
  readonly t: number | null;
  /** Tweedie estimate E[x_0 | x_t] of the last step (null at the root; the sample once done). */
  readonly x0: Float64Array | null;
  /** Denoiser calls made along this path. */
  readonly nfe: number;
}

const isDenoiser = (d: unknown) =>
  typeof d === 'function' && typeof (d as Denoiser).predictionType === 'string';
/** Any denoiser (its conditioning type is the caller's: `cond` is passed through as given). */
export const DenoiserArg = z.custom<Denoiser<never>>(
  isDenoiser,
  'expected a Denoiser (from @hasten/diffusion)',
);
/** A function that makes a fresh scheduler (schedulers keep per-run state). */
export const SchedulerFactoryArg = fn<() => Scheduler>(
  'a function () => Scheduler that makes a fresh scheduler',
);

export const DiffusionProposerOptions = z.strictObject({
  scheduler: SchedulerFactoryArg,
  denoiser: DenoiserArg,
  /** Inference steps (setTimesteps). */
  steps: z.number().int().positive(),
  /** Values per sample. */
  dim: z.number().int().positive(),
  /** The denoiser's conditioning of the one item (e.g. a class label); null = unconditional. */
  cond: z.unknown().optional(),
  /**
   * Classifier-free guidance scale w (1 = none; needs a non-null cond): out = u + w·(c − u), the
   * conditional and unconditional branches in one batched denoiser call (1 NFE, as `sample()` counts).
   */
  guidanceScale: z.number().finite().default(1),
  /** x̂0 for a scheduler that returns no predOriginalSample: (x_t, model output, t, step index) => x̂0. */
  tweedie: fn<(x: Float64Array, output: Float64Array, t: number, step: number) => Float64Array>(
    'a function (x, output, t, step) => x0',
  ).optional(),
});
export type DiffusionProposerOptions = z.input<typeof DiffusionProposerOptions>;

export interface DiffusionProposer extends Proposer<DiffusionState> {
  /** Steps (= NFE) of a whole trajectory. */
  readonly steps: number;
  /**
   * Moves a state `steps` schedule steps back up the noise schedule with the forward process (no
   * model call; search over paths): x_s = √(ᾱ_s/ᾱ_t)·x_t + √(1 − ᾱ_s/ᾱ_t)·ε, ε ~ N(0, I) from ctx.rng,
   * ᾱ_t of the state's timestep (1 once done). Variance-preserving schedulers only (an `alphasCumprod`
   * and initNoiseSigma 1: DDPM, DDIM); x̂0 of the result is null (no model call formed one).
   */
  renoise(state: DiffusionState, steps: number, ctx: ProposeContext): DiffusionState;
}

/** Multi-call / multistep schedulers whose history a single state does not carry. */
const HISTORY_SCHEDULERS = [
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  UniPCMultistepScheduler,
  DEISMultistepScheduler,
  PNDMScheduler,
  HeunDiscreteScheduler,
  FlowMatchHeunDiscreteScheduler,
];

/** A fresh scheduler from `factory` with `steps` set. */
export function freshScheduler(factory: () => Scheduler, steps: number, where: string): Scheduler {
  const s = factory();
  if (typeof s !== 'object' || s === null || typeof (s as Scheduler).step !== 'function')
    throw new ScalingError('options', `${where}: option 'scheduler' must return a Scheduler`);
  s.setTimesteps({ steps });
  return s;
}

export function diffusionProposer(options: DiffusionProposerOptions): DiffusionProposer {
  const o = parseOptions(DiffusionProposerOptions, options, WHERE);
  const probe = freshScheduler(o.scheduler, o.steps, WHERE);
  const history = HISTORY_SCHEDULERS.find((c) => probe instanceof c);
  if (history)
    throw new ScalingError(
      'options',
      `${WHERE}: option 'scheduler': ${history.name} keeps a history across steps (multistep or two calls per step), which a state does not carry; use a one-step scheduler (DDPM, DDIM, Euler, Euler ancestral, FlowMatch Euler) or diffusionNoiseProposer`,
    );
  const n = probe.timesteps.length;
  const cond = [o.cond ?? null];
  const denoiser = o.denoiser as unknown as Denoiser<unknown[]>;
  const freeze = (s: DiffusionState) => Object.freeze(s);
  const guided = o.guidanceScale !== 1 && cond[0] !== null;
  const guide = (input: Float64Array, t: number) => {
    const both = new Float64Array(2 * o.dim);
    both.set(input);
    both.set(input, o.dim);
    const pred = denoiser(both, t, [cond[0], null]);
    if (pred.length !== 2 * o.dim)
      throw new ScalingError(
        'input',
        `${WHERE}: the denoiser returned ${pred.length} values, expected ${2 * o.dim}`,
      );
    const out = new Float64Array(o.dim);
    for (let k = 0; k < o.dim; k++) out[k] = pred[o.dim + k] + o.guidanceScale * (pred[k] - pred[o.dim + k]);
    return out;
  };

  return {
    steps: n,
    initial(ctx: ProposeContext) {
      const z0 = ctx.rng.normal(o.dim);
      const x = z0.map((v) => v * probe.initNoiseSigma);
      return freeze({ x, step: 0, t: probe.timesteps[0], x0: null, nfe: 0 });
    },
    propose(state: DiffusionState, ctx: ProposeContext) {
      if (state.step >= n || state.t === null)
        throw new ScalingError('input', `${WHERE}.propose: the state is final (step ${state.step} of ${n})`);
      if (state.x.length !== o.dim)
        throw new ScalingError(
          'input',
          `${WHERE}.propose: x has ${state.x.length} values, expected ${o.dim}`,
        );
      const s = freshScheduler(o.scheduler, o.steps, WHERE);
      const i = state.step;
      const t = s.timesteps[i];
      (s as { setBeginIndex?: (i: number) => void }).setBeginIndex?.(i);
      const input = s.scaleModelInput(state.x, t);
      const out = guided ? guide(input, t) : denoiser(input, t, cond);
      if (out.length !== o.dim)
        throw new ScalingError(
          'input',
          `${WHERE}: the denoiser returned ${out.length} values, expected ${o.dim}`,
        );
      const r = s.step(out, t, state.x, { generator: ctx.rng });
      const done = i + 1 >= n;
      const est = r.predOriginalSample ?? o.tweedie?.(state.x, Float64Array.from(out), t, i);
      if (!est)
        throw new ScalingError(
          'options',
          `${WHERE}: the scheduler returns no predOriginalSample; pass option 'tweedie' (x, output, t, step) => x0`,
        );
      return freeze({
        x: r.prevSample,
        step: i + 1,
        t: done ? null : s.timesteps[i + 1],
        x0: done ? r.prevSample : est,
        nfe: state.nfe + 1,
      });
    },
    done: (s) => s.step >= n,
    cost: (from, to) => to.nfe - from.nfe,
    renoise(state: DiffusionState, steps: number, ctx: ProposeContext) {
      const ac = (probe as { alphasCumprod?: Float64Array }).alphasCumprod;
      if (!(ac instanceof Float64Array) || probe.initNoiseSigma !== 1)
        throw new ScalingError(
          'options',
          `${WHERE}.renoise: needs a variance-preserving scheduler with alphasCumprod (DDPM, DDIM), got ${probe.constructor.name}`,
        );
      if (!Number.isInteger(steps) || steps < 1 || steps > state.step)
        throw new ScalingError(
          'input',
          `${WHERE}.renoise: steps must be an integer in [1, ${state.step}] (the state's step), got ${steps}`,
        );
      const j = state.step - steps;
      const aFrom = state.t === null ? 1 : ac[state.t];
      const aTo = ac[probe.timesteps[j]];
      const ratio = aTo / aFrom;
      const e = ctx.rng.normal(o.dim);
      const a = Math.sqrt(ratio);
      const b = Math.sqrt(Math.max(0, 1 - ratio));
      const x = state.x.map((v, k) => a * v + b * e[k]);
      return freeze({ x, step: j, t: probe.timesteps[j], x0: null, nfe: state.nfe });
    },
  };
}

/**
 * A scorer from a reward on samples (an image classifier's log-probability, an aesthetic score): it
 * reads the Tweedie estimate x̂0 of a partial state (x itself at the root), the sample once done.
 */
export function tweedieReward(
  reward: (x0: Float64Array) => number | Promise<number>,
): Scorer<DiffusionState> {
  if (typeof reward !== 'function')
    throw new ScalingError('options', 'tweedieReward: reward must be a function (x0) => number');
  return (s) => reward(s.x0 ?? s.x);
}
