/**
 * @file The Llama-family decoder (Llama, arXiv:2302.13971; Mistral, arXiv:2310.06825; Qwen2,
 * arXiv:2407.10671) on core-tensor ops, following Hugging Face's `LlamaForCausalLM` eager path:
 * pre-RMSNorm blocks, RoPE with rotate_half pairing (optionally Llama-3 / linear scaled),
 * grouped-query attention (arXiv:2305.13245) through `sdpa`, SwiGLU MLP (arXiv:2002.05202),
 * optional q/k/v (Qwen2) and o/MLP biases, tied or untied LM head.
 *
 * Keys and values go into the KV cache after RoPE and before head repetition (as HF caches them);
 * the cache is committed once every layer has been written, rolled back if the forward throws.
 */
import {
  add,
  embedding,
  linear,
  mul,
  rmsnorm,
  rope,
  type SafetensorsReader,
  scope,
  sdpa,
  silu,
  type Tensor,
} from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import {
  type CausalLM,
  type CreateCacheOptions,
  contiguousCacheFor,
  type ForwardInput,
  type ForwardOutput,
  type ForwardStep,
  forwardChunked,
  prepareStep,
} from '../causal-lm';
import type { LlamaConfig } from '../config';
import { disposeLlamaWeights, type LayerWeights, type LlamaWeights, loadLlamaWeights } from './weights';

export interface LlamaModelOptions {
  /** core-tensor backend for weights and compute (default 'cpu'). */
  device?: string;
  /** Where the weights come from, for error messages (a folder or URL). */
  source?: string;
}

export class LlamaModel implements CausalLM {
  private disposed = false;

  constructor(
    readonly config: LlamaConfig,
    private readonly weights: LlamaWeights,
    readonly device: string,
  ) {}

  /**
   * Checks the weights of a safetensors reader (one file or a sharded checkpoint) against the
   * config, then loads them as f32 onto `device`. Isomorphic: in a browser, open the file with
   * `SafetensorsFile.open(bytesSource(await (await fetch(url)).arrayBuffer()))`.
   */
  static async fromSafetensors(
    config: LlamaConfig,
    reader: SafetensorsReader,
    opts: LlamaModelOptions = {},
  ): Promise<LlamaModel> {
    const device = opts.device ?? 'cpu';
    const weights = await loadLlamaWeights(config, reader, device, opts.source ?? 'safetensors');
    return new LlamaModel(config, weights, device);
  }

  createCache(opts: CreateCacheOptions = {}): KVCache {
    // Long-context models (128k positions) would reserve gigabytes up front; start smaller and
    // let the cache double as it fills.
    const capacity = Math.min(4096, opts.maxLength ?? this.config.contextLength);
    return contiguousCacheFor(this.config, opts, { capacity, device: this.device });
  }

  forward(input: ForwardInput): Promise<ForwardOutput> {
    if (this.disposed) throw new Error('LlamaModel.forward: the model was disposed');
    return forwardChunked(input, (chunk) => this.step(chunk));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeLlamaWeights(this.weights);
  }

  private async step(input: ForwardInput): Promise<ForwardOutput> {
    const st = await prepareStep(this.config, input, this.config.contextLength);
    try {
      const out = scope(() => this.compute(st));
      st.cache?.commit();
      return out;
    } catch (e) {
      st.cache?.rollback();
      throw e;
    } finally {
      if (st.ownsPositions) st.positions.dispose();
    }
  }

  private compute(st: ForwardStep): ForwardOutput {
    const c = this.config;
    const w = this.weights;
    let x = embedding(w.embed, st.tokens);
    for (let i = 0; i < c.numLayers; i++) {
      const prev = x;
      // A nested scope frees each layer's intermediates before the next layer runs.
      x = scope(() => this.layer(i, w.layers[i], prev, st));
      prev.dispose();
    }
    const h = rmsnorm(x, w.norm, c.rmsNormEps);
    const S = st.length;
    const kept = st.logitsToKeep < S ? h.slice(1, S - st.logitsToKeep) : h;
    const logits = linear(kept, w.lmHead);
    return st.outputHiddenStates ? { logits, hiddenStates: h } : { logits };
  }

  private layer(i: number, w: LayerWeights, x: Tensor, st: ForwardStep): Tensor {
    const c = this.config;
    const { batch: B, length: S } = st;
    const heads = (t: Tensor, n: number) => t.reshape([B, S, n, c.headDim]).permute([0, 2, 1, 3]);
    const ropeOpts = { theta: c.ropeTheta, scaling: c.ropeScaling };

    const h = rmsnorm(x, w.inputNorm, c.rmsNormEps);
    const q = rope(heads(linear(h, w.q, w.qBias), c.numHeads), st.positions, ropeOpts);
    const k = rope(heads(linear(h, w.k, w.kBias), c.numKvHeads), st.positions, ropeOpts);
    const v = heads(linear(h, w.v, w.vBias), c.numKvHeads);
    let keys = k;
    let values = v;
    if (st.cache) {
      st.cache.append(i, k, v);
      keys = st.cache.keys(i);
      values = st.cache.values(i);
    }
    const a =
      st.attention === 'causal'
        ? sdpa(q, keys, values, { causal: true })
        : sdpa(q, keys, values, { mask: st.attention });
    const merged = a.permute([0, 2, 1, 3]).reshape([B, S, c.numHeads * c.headDim]);
    const x1 = add(x, linear(merged, w.o, w.oBias));

    const h2 = rmsnorm(x1, w.postNorm, c.rmsNormEps);
    const gated = mul(silu(linear(h2, w.gate, w.gateBias)), linear(h2, w.up, w.upBias));
    return add(x1, linear(gated, w.down, w.downBias));
  }
}
