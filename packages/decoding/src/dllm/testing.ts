/**
 * @file Test helper (not exported): a MaskedDiffusionLM whose logits are a known function of the
 * whole sequence, so tests can compute by hand what a decoder must commit and the exact
 * distribution of a sampler.
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type {
  DiffusionForwardInput,
  ForwardOutput,
  MaskedDiffusionConfig,
  MaskedDiffusionLM,
} from '@hasten/models';

/**
 * logits(position, x) for a sequence x (mask tokens included); no cache support (decode with
 * cache 'none').
 */
export class SyntheticMDLM implements MaskedDiffusionLM {
  readonly config: MaskedDiffusionConfig;
  readonly device = 'cpu';
  forwards = 0;

  constructor(
    readonly maskTokenId: number,
    vocabSize: number,
    private readonly fn: (position: number, x: readonly number[]) => number[],
    eosTokenId?: number,
  ) {
    this.config = {
      modelType: 'synthetic',
      vocabSize,
      hiddenSize: 1,
      numLayers: 1,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 1,
      contextLength: 1024,
      maskTokenId,
      attention: 'bidirectional',
      ...(eosTokenId !== undefined ? { eosTokenId } : {}),
    };
  }

  createCache(): KVCache {
    throw new Error('SyntheticMDLM has no cache');
  }

  async forward(input: DiffusionForwardInput): Promise<ForwardOutput> {
    if (input.cache) throw new Error('SyntheticMDLM has no cache');
    const x = Array.from((await input.tokens.data()) as Int32Array);
    const V = this.config.vocabSize;
    const out = new Float32Array(x.length * V);
    for (let p = 0; p < x.length; p++) out.set(this.fn(p, x), p * V);
    this.forwards++;
    const logits: Tensor = tensor(out, [1, x.length, V]);
    return { logits };
  }

  dispose(): void {}
}
