/**
 * @file Test helpers of the dLLM caches (Node only, not exported): the trained fixtures code-mdlm
 * and code-bdlm,
 * a MaskedDiffusionLM wrapper that records the positions each forward computes, and the step
 * events of a decoding.
 */
import { join } from 'node:path';
import type { KVCache } from '@hasten/kv';
import type {
  DiffusionForwardInput,
  ForwardOutput,
  MaskedDiffusionConfig,
  MaskedDiffusionLM,
} from '@hasten/models';
import { loadMaskedDiffusionLM } from '@hasten/models/node';
import { FIXTURES } from '../testing';
import { type DiffusionStepEvent, streamDiffusion } from './generate-diffusion';
import type { DiffusionOptions } from './options';

export const loadCodeMdlm = (): Promise<MaskedDiffusionLM> =>
  loadMaskedDiffusionLM(join(FIXTURES, 'code-mdlm'));

/** The block diffusion fixture (block-causal attention, blocks of 32; train_mdlm.py --block-causal). */
export const loadCodeBdlm = (): Promise<MaskedDiffusionLM> =>
  loadMaskedDiffusionLM(join(FIXTURES, 'code-bdlm'));

/** BOS + "def add(a, b):\n    return ". */
export const CODE_PROMPT = [256, ...new TextEncoder().encode('def add(a, b):\n    return ')];

/** Delegates to `inner` and records the (sorted) positions of every forward. */
export class RecordingMDLM implements MaskedDiffusionLM {
  readonly forwarded: number[][] = [];
  constructor(private readonly inner: MaskedDiffusionLM) {}
  get config(): MaskedDiffusionConfig {
    return this.inner.config;
  }
  get maskTokenId(): number {
    return this.inner.maskTokenId;
  }
  get device(): string {
    return this.inner.device;
  }
  createCache(opts?: Parameters<MaskedDiffusionLM['createCache']>[0]): KVCache {
    return this.inner.createCache(opts);
  }
  async forward(input: DiffusionForwardInput): Promise<ForwardOutput> {
    const n = input.tokens.shape[1];
    const pos = input.positions
      ? Array.from((await input.positions.data()) as Int32Array)
      : Array.from({ length: n }, (_, i) => (input.cache?.length ?? 0) + i);
    this.forwarded.push(pos.sort((a, b) => a - b));
    return this.inner.forward(input);
  }
  dispose(): void {}
}

export async function decodeSteps(
  model: MaskedDiffusionLM,
  opts: DiffusionOptions,
): Promise<{ events: DiffusionStepEvent[]; canvas: number[]; forwards: number }> {
  const events: DiffusionStepEvent[] = [];
  const it = streamDiffusion(model, opts);
  while (true) {
    const r = await it.next();
    if (r.done) return { events, canvas: r.value.rows[0].canvas, forwards: r.value.stats.forwards };
    if (r.value.type === 'step') events.push(r.value);
  }
}

/** The step events without the confidences (float noise aside, what a decoding decided). */
export const decisions = (events: DiffusionStepEvent[]) =>
  events.map((e) => e.commits.map((c) => [c.position, c.token, c.reason]));
