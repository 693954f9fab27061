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
  clone,
  embedding,
  keep,
  linear,
  logicalAnd,
  mul,
  type PagedKV,
  pagedSdpa,
  quantLinear,
  rmsnorm,
  rope,
  type SafetensorsReader,
  scope,
  sdpa,
  silu,
  type Tensor,
  tensor,
} from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import {
  attentionMask,
  type CausalLM,
  type CreateCacheOptions,
  contiguousCacheFor,
  type ForwardInput,
  type ForwardOutput,
  type ForwardStep,
  finishStep,
  forwardChunked,
  prepareStep,
  releaseStep,
} from '../causal-lm';
import type { LlamaConfig } from '../config';
import { ModelError } from '../errors';
import { defaultDevice, inHostMemory, parseOptions } from '../options';
import { type QuantizeOptions, quantizeLlamaWeights, weightBytes } from './quantize';
import {
  disposeLlamaWeights,
  isQuantized,
  type LayerWeights,
  type LinearWeight,
  LlamaModelOptions,
  type LlamaWeights,
  loadLlamaWeights,
} from './weights';

export class LlamaModel implements CausalLM {
  private disposed = false;

  constructor(
    readonly config: LlamaConfig,
    private weights: LlamaWeights,
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
    const o = parseOptions(LlamaModelOptions, opts, 'LlamaModel.fromSafetensors');
    const device = o.device ?? defaultDevice();
    const weights = await loadLlamaWeights(config, reader, device, o.source ?? 'safetensors', {
      checkFinite: o.checkFinite,
    });
    return new LlamaModel(config, weights, device);
  }

  /**
   * Quantize every linear layer's weight in place, round-to-nearest (quantize.ts): the f32 weights
   * are released, and the model multiplies by the quantized ones with `quantLinear`. Returns this.
   */
  quantize(opts: QuantizeOptions): this {
    this.assertLive('quantize');
    if (!inHostMemory(this.weights.embed)) {
      throw new ModelError(
        'input',
        `quantize: weights must be on a CPU backend, the model is on '${this.device}'`,
      );
    }
    const old = this.weights;
    this.weights = quantizeLlamaWeights(old, opts);
    const kept = new Set<LinearWeight>([
      this.weights.embed,
      this.weights.norm,
      this.weights.lmHead,
      ...this.weights.layers.flatMap((l) => Object.values(l) as LinearWeight[]),
    ]);
    const replaced = [old.lmHead, ...old.layers.flatMap((l) => Object.values(l) as LinearWeight[])];
    for (const w of new Set(replaced)) if (!kept.has(w) && !isQuantized(w)) w.dispose();
    return this;
  }

  /** The weights as held (f32 tensors and QuantizedWeights), for savers and exporters (src/quant/); read only. */
  get heldWeights(): LlamaWeights {
    this.assertLive('heldWeights');
    return this.weights;
  }

  /** Bytes of the weights as held (f32 tensors, quantized weights; a tied head counted once). */
  weightBytes(): number {
    const w = this.weights;
    const all = new Set<LinearWeight>([
      w.embed,
      w.norm,
      w.lmHead,
      ...w.layers.flatMap((l) => Object.values(l) as LinearWeight[]),
    ]);
    let bytes = 0;
    for (const x of all) bytes += weightBytes(x);
    return bytes;
  }

  createCache(opts: CreateCacheOptions = {}): KVCache {
    // Long-context models (128k positions) would reserve gigabytes up front; start smaller and
    // let the cache double as it fills.
    const capacity = Math.min(4096, opts.maxLength ?? this.config.contextLength);
    return contiguousCacheFor(this.config, opts, { capacity, device: this.device });
  }

  forward(input: ForwardInput): Promise<ForwardOutput> {
    this.assertLive('forward');
    return forwardChunked(input, (chunk) => this.step(chunk));
  }

  async lmHead(hidden: Tensor): Promise<Tensor> {
    this.assertLive('lmHead');
    const h = await this.onDevice(hidden, 'hidden', 'f32');
    if (h.shape[h.rank - 1] !== this.config.hiddenSize) {
      throw new ModelError(
        'input',
        `lmHead: hidden states must end in hidden_size ${this.config.hiddenSize}, got [${h.shape.join(', ')}]`,
      );
    }
    const out = proj(h, this.weights.lmHead);
    if (h !== hidden) h.dispose();
    return out;
  }

  async embed(tokens: Tensor): Promise<Tensor> {
    this.assertLive('embed');
    const t = await this.onDevice(tokens, 'tokens', 'i32');
    const out = embedding(this.weights.embed, t);
    if (t !== tokens) t.dispose();
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeLlamaWeights(this.weights);
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new Error(`LlamaModel.${what}: the model was disposed`);
  }

  /** `t` on the model's backend (a moved copy the caller disposes), after a dtype check. */
  private async onDevice(t: Tensor, name: string, dtype: 'f32' | 'i32'): Promise<Tensor> {
    if (t.dtype !== dtype) throw new ModelError('input', `${name} must be ${dtype}, got ${t.dtype}`);
    return t.device === this.device ? t : t.to(this.device);
  }

  private async step(input: ForwardInput): Promise<ForwardOutput> {
    const st = await prepareStep(this.config, input, this.config.contextLength, this.device);
    const queries: Tensor[] = [];
    try {
      const mask = await attentionMask(st, this.device);
      const out = scope(() => this.compute(st, mask, queries));
      finishStep(st);
      if (st.outputQueries) {
        out.queries = await Promise.all(queries.map(async (q) => (await q.data()) as Float32Array));
      }
      return out;
    } catch (e) {
      st.cache?.rollback();
      throw e;
    } finally {
      for (const q of queries) q.dispose();
      releaseStep(st);
    }
  }

  private compute(st: ForwardStep, mask: Tensor | null, queries: Tensor[]): ForwardOutput {
    const c = this.config;
    const w = this.weights;
    let x = embedding(w.embed, st.tokens);
    for (let i = 0; i < c.numLayers; i++) {
      const prev = x;
      // A nested scope frees each layer's intermediates before the next layer runs.
      x = scope(() => this.layer(i, w.layers[i], prev, st, mask, queries));
      prev.dispose();
    }
    const h = rmsnorm(x, w.norm, c.rmsNormEps);
    const S = st.length;
    const kept = st.logitsToKeep < S ? h.slice(1, S - st.logitsToKeep) : h;
    const logits = proj(kept, w.lmHead);
    return st.outputHiddenStates ? { logits, hiddenStates: h } : { logits };
  }

  private layer(
    i: number,
    w: LayerWeights,
    x: Tensor,
    st: ForwardStep,
    mask: Tensor | null,
    queries: Tensor[],
  ): Tensor {
    const c = this.config;
    const { batch: B, length: S } = st;
    const heads = (t: Tensor, n: number) => t.reshape([B, S, n, c.headDim]).permute([0, 2, 1, 3]);
    const ropeOpts = { theta: c.ropeTheta, scaling: c.ropeScaling };

    const h = rmsnorm(x, w.inputNorm, c.rmsNormEps);
    const q = rope(heads(proj(h, w.q, w.qBias), c.numHeads), st.positions, ropeOpts);
    const k = rope(heads(proj(h, w.k, w.kBias), c.numKvHeads), st.positions, ropeOpts);
    const v = heads(proj(h, w.v, w.vBias), c.numKvHeads);
    if (st.outputQueries) queries.push(keep(clone(q.slice(2, S - st.outputQueries))));
    let keys = k;
    let values = v;
    // A paged cache (@hasten/kv PagedKVCache) is read in place through its block tables.
    let paged: PagedKV | undefined;
    if (st.cache) {
      st.cache.append(i, k, v);
      paged = st.cache.attentionView?.(i);
      // A quantized cache (@hasten/kv QuantizedKVCache) attends from its codes (`attend`).
      if (!paged && !st.cache.attend) {
        keys = st.cache.keys(i);
        values = st.cache.values(i);
      }
    }
    // Per-head eviction (kv's compress with per-head budgets) hides slots per kv head.
    const visible = st.cache?.visibility?.(i);
    const slots = visible ? headSlotMask(visible, B, c.numKvHeads, c.numHeads, this.device) : null;
    const attend = slots
      ? mask
        ? { mask: logicalAnd(mask, slots) }
        : { causal: true, mask: slots }
      : mask
        ? { mask }
        : { causal: true };
    const a = paged
      ? pagedSdpa(q, paged, attend)
      : st.cache?.attend
        ? st.cache.attend(i, q, attend)
        : sdpa(q, keys, values, attend);
    const merged = a.permute([0, 2, 1, 3]).reshape([B, S, c.numHeads * c.headDim]);
    const x1 = add(x, proj(merged, w.o, w.oBias));

    const h2 = rmsnorm(x1, w.postNorm, c.rmsNormEps);
    const gated = mul(silu(proj(h2, w.gate, w.gateBias)), proj(h2, w.up, w.upBias));
    return add(x1, proj(gated, w.down, w.downBias));
  }
}

/**
 * A cache's per-kv-head slot visibility [B, KV, T] (1 = attend) as a bool mask [B, Hq, 1, T] over
 * the query heads (query head h reads kv head h / (Hq / KV)), broadcast over the queries.
 */
function headSlotMask(visible: Uint8Array, B: number, KV: number, Hq: number, device: string): Tensor {
  const T = visible.length / (B * KV);
  const group = Hq / KV;
  const out = new Uint8Array(B * Hq * T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const src = (b * KV + Math.floor(h / group)) * T;
      out.set(visible.subarray(src, src + T), (b * Hq + h) * T);
    }
  return tensor(out, [B, Hq, 1, T], { dtype: 'bool', device });
}

/** x @ Wᵀ + b for an f32 or a weight-only quantized weight. */
function proj(x: Tensor, w: LinearWeight, bias?: Tensor): Tensor {
  return isQuantized(w) ? quantLinear(x, w, bias) : linear(x, w, bias);
}
