/**
 * @file The contract that feature caches hook (DESIGN.md §2: "architectures expose their blocks so
 * caches can hook them"): a denoiser whose forward is split at its blocks.
 *
 *     const pass = model.begin(x, t, cond);   // stem: patch / conv-in, timestep and class embeddings
 *     for (let i = 0; i < model.numBlocks; i++) pass.runBlock(i);
 *     const prediction = pass.finish();       // head: final norm, projection, unpatchify
 *
 * The state between blocks is `pass.hidden` (f32, batch first, layout given by `pass.shape`: DiT
 * `[batch, tokens, width]`, UNet `[batch, channels, height, width]`). A cache may replace it between
 * blocks (with a tensor of the shape the skipped span would have produced) and so skip a span of
 * blocks. UNet skip features live inside the pass: down blocks push, up blocks pop, so a span that
 * pushes and pops the same features (`balancedSpans`) can be skipped whole (DeepCache). Blocks are
 * pure functions of (hidden, the pass's conditioning, skips): the same inputs give the same output.
 */
import type { PredictionType, Sample } from './types';

export interface RunBlockOptions {
  /**
   * DiT only: compute the block's output for these token rows (per item, ascending) and leave the
   * other rows of `hidden` as they were (ToCa, RAS). Attention keys and values are formed from all
   * rows of the block input; queries, projections and the MLP only for the selected rows.
   */
  tokens?: Int32Array;
}

export interface DenoiserPass {
  readonly batch: number;
  /** Input of the next block (after `runBlock(i)`: its output). Replaceable by a cache. */
  hidden: Float32Array;
  /** Shape of `hidden`, batch first. Set together with `hidden` when a cache substitutes a span. */
  shape: readonly number[];
  /** Runs block `i` on `hidden` and replaces `hidden` (and `shape`) with its output. */
  runBlock(i: number, options?: RunBlockOptions): void;
  /**
   * The first block's timestep-modulated, normalised input (TeaCache's cheap signal), per item,
   * flattened; computed from the stem without running the block.
   */
  modulatedInput(): Float32Array;
  /** Final norm and projection; returns the prediction (batch · dim values). */
  finish(): Sample;
}

export interface BlockDenoiser<C = unknown> {
  readonly predictionType: PredictionType;
  readonly architecture: 'dit' | 'unet';
  readonly numBlocks: number;
  /** Values per item of the sample (channels · height · width). */
  readonly sampleSize: number;
  /** Spans [start, end) whose skip features are pushed and popped inside (DiT: every span). */
  balancedSpan(start: number, end: number): boolean;
  /** Stem; `cond` has one entry per batch item (`null`: unconditional). */
  begin(x: Sample | Float32Array, t: number, cond: readonly (C | null)[]): DenoiserPass;
}

/** The plain, uncached forward as a `Denoiser` for `sample()`. */
export function fullForward<C>(model: BlockDenoiser<C>) {
  const denoiser = (x: Sample, t: number, cond: readonly (C | null)[] | null): Sample => {
    const items = x.length / model.sampleSize;
    const pass = model.begin(x, t, cond ?? new Array<C | null>(items).fill(null));
    for (let i = 0; i < model.numBlocks; i++) pass.runBlock(i);
    return pass.finish();
  };
  return Object.assign(denoiser, { predictionType: model.predictionType });
}
