/**
 * @file Test set-up for the feature caches: a guided `sample()` run of a toy block model (flow
 * prediction with FlowMatch Euler, for both the DiT and the UNet), and a scripted one-value DiT whose block residuals and modulated
 * input are given tables, so that a policy's decisions can be worked out by hand.
 */
import { rng } from '@hasten/core-tensor';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { sample } from '../sample';
import { FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-match-euler-discrete';
import type { Denoiser, Sample } from '../types';
import { ToyBlockDenoiser } from './toy-block-denoiser';

export const TOY_BATCH = 2;

export function toyModel(architecture: 'dit' | 'unet', seed = 3): ToyBlockDenoiser {
  return new ToyBlockDenoiser({
    architecture,
    seed,
    predictionType: 'flow_prediction',
  });
}

/**
 * A guided run (scale 3, classes [1, 2], so every call batches 2 conditional and 2 unconditional
 * items) from fixed noise; `cache` is passed to sample() when the denoiser is a cached one.
 */
export function toyRun(
  model: ToyBlockDenoiser,
  denoiser: Denoiser<(number | null)[]>,
  steps = 20,
  cache?: { beginGeneration(n: number): void; beginStep(i: number): void },
): Sample {
  const scheduler = new FlowMatchEulerDiscreteScheduler();
  return sample(scheduler, denoiser, {
    steps,
    batch: TOY_BATCH,
    dim: model.sampleSize,
    noise: rng(11).normal(TOY_BATCH * model.sampleSize),
    cond: [1, 2],
    guidanceScale: 3,
    cache,
  }).sample;
}

/** ‖a − b‖ / ‖b‖. */
export function relativeError(a: Sample, b: Sample): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * A DiT with one token of `width` values per item whose block i adds `residual(i, t)` to every
 * value, whose modulated input is `modulated(t)` and whose head returns the hidden state. The
 * scripted "timestep" t is the step index when driven by hand.
 */
export class ScriptedDiT implements BlockDenoiser<number> {
  readonly predictionType = 'epsilon' as const;
  readonly architecture = 'dit' as const;
  readonly sampleSize: number;
  constructor(
    readonly numBlocks: number,
    private readonly residual: (i: number, t: number) => number,
    private readonly modulated: (t: number) => number = () => 1,
    readonly width = 1,
  ) {
    this.sampleSize = width;
  }
  balancedSpan(): boolean {
    return true;
  }
  begin(x: Sample | Float32Array, t: number, cond: readonly (number | null)[]): DenoiserPass {
    const self = this;
    const batch = cond.length;
    return {
      batch,
      hidden: Float32Array.from(x),
      shape: [batch, 1, this.width],
      runBlock(i: number, options?: { tokens?: Int32Array }) {
        if (options?.tokens !== undefined && options.tokens.length === 0) return;
        this.hidden = this.hidden.map((v) => v + self.residual(i, t));
      },
      modulatedInput() {
        return new Float32Array(batch * self.width).fill(self.modulated(t));
      },
      finish() {
        return Float64Array.from(this.hidden);
      },
    };
  }
}

/** Drives a cached denoiser over `steps` calls at t = 0, 1, …; returns each call's block decisions. */
export function scriptedDecisions(
  denoiser: Denoiser<(number | null)[]> & {
    beginGeneration(n: number): void;
    stats(): { trace: { blocks: string }[] };
  },
  steps: number,
  width = 1,
): string[] {
  denoiser.beginGeneration(steps);
  for (let k = 0; k < steps; k++) denoiser(new Float64Array(width), k, [null]);
  return denoiser.stats().trace.map((e) => e.blocks);
}
