/**
 * @file The inputs of every linear layer of a Llama-family model on one token sequence (the
 * calibration activations of AWQ, arXiv:2306.00978, and of the mixed-precision sensitivities). It
 * runs the same computation as LlamaModel's layer (pre-RMSNorm, RoPE, causal GQA attention through
 * `sdpa`, SwiGLU) with core-tensor ops on the model's f32 or quantized weights, and keeps per layer:
 *   attn  = RMSNorm(x) · γ_in          [T, H]      (input of q, k, v)
 *   o     = attention output, merged   [T, Hq·D]   (input of o)
 *   mlp   = RMSNorm(x1) · γ_post       [T, H]      (input of gate, up)
 *   down  = silu(gate(mlp)) ⊙ up(mlp)  [T, I]      (input of down)
 * and the final logits, so a test can check it against LlamaModel.forward.
 */
import {
  add,
  clone,
  embedding,
  linear,
  mul,
  quantLinear,
  rmsnorm,
  rope,
  scope,
  sdpa,
  silu,
  type Tensor,
  tensor,
} from '@hasten/core-tensor';
import { ModelError } from '../errors';
import type { LlamaModel } from '../llama/model';
import { isQuantized, type LinearWeight } from '../llama/weights';

export interface LayerInputs {
  attn: Float32Array;
  o: Float32Array;
  mlp: Float32Array;
  down: Float32Array;
}

const proj = (x: Tensor, w: LinearWeight, b?: Tensor) =>
  isQuantized(w) ? quantLinear(x, w, b) : linear(x, w, b);
const copy = async (t: Tensor) => Float32Array.from((await t.data()) as Float32Array);

/** Inputs of each layer's linears and the logits [T, vocab] for `tokens` (one sequence, positions 0..T-1). */
export async function captureLinearInputs(
  model: LlamaModel,
  tokens: ArrayLike<number>,
): Promise<{ layers: LayerInputs[]; logits: Float32Array }> {
  const c = model.config;
  const T = tokens.length;
  if (T < 1 || T > c.contextLength)
    throw new ModelError('input', `calibration tokens: need 1 to ${c.contextLength} tokens, got ${T}`);
  for (let i = 0; i < T; i++)
    if (!(Number.isInteger(tokens[i]) && tokens[i] >= 0 && tokens[i] < c.vocabSize))
      throw new ModelError(
        'input',
        `calibration tokens: token ${i} is ${tokens[i]}, not an id in [0, ${c.vocabSize})`,
      );
  const w = model.heldWeights;
  const device = model.device;
  const ids = tensor(Int32Array.from(tokens), [1, T], { dtype: 'i32', device });
  const positions = tensor(
    Int32Array.from({ length: T }, (_, i) => i),
    [1, T],
    { dtype: 'i32', device },
  );
  const heads = (t: Tensor, n: number) => t.reshape([1, T, n, c.headDim]).permute([0, 2, 1, 3]);
  const ropeOpts = { theta: c.ropeTheta, scaling: c.ropeScaling };
  const layers: LayerInputs[] = [];
  let x = embedding(w.embed, ids);
  try {
    for (const l of w.layers) {
      const next = scope(() => {
        const h = rmsnorm(x, l.inputNorm, c.rmsNormEps);
        const q = rope(heads(proj(h, l.q, l.qBias), c.numHeads), positions, ropeOpts);
        const k = rope(heads(proj(h, l.k, l.kBias), c.numKvHeads), positions, ropeOpts);
        const v = heads(proj(h, l.v, l.vBias), c.numKvHeads);
        const a = sdpa(q, k, v, { causal: true })
          .permute([0, 2, 1, 3])
          .reshape([1, T, c.numHeads * c.headDim]);
        const x1 = add(x, proj(a, l.o, l.oBias));
        const h2 = rmsnorm(x1, l.postNorm, c.rmsNormEps);
        const gated = mul(silu(proj(h2, l.gate, l.gateBias)), proj(h2, l.up, l.upBias));
        const out = add(x1, proj(gated, l.down, l.downBias));
        return { out, attn: h, o: clone(a), mlp: h2, down: gated };
      });
      layers.push({
        attn: await copy(next.attn),
        o: await copy(next.o),
        mlp: await copy(next.mlp),
        down: await copy(next.down),
      });
      for (const t of [next.attn, next.o, next.mlp, next.down]) t.dispose();
      x.dispose();
      x = next.out;
    }
    const logits = proj(rmsnorm(x, w.norm, c.rmsNormEps), w.lmHead);
    const out = await copy(logits);
    logits.dispose();
    return { layers, logits: out };
  } finally {
    x.dispose();
    ids.dispose();
    positions.dispose();
  }
}
