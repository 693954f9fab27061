/**
 * @file Class-conditional DiT (Peebles & Xie, "Scalable Diffusion Models with Transformers", arXiv
 * 2212.09748; tensor names of facebookresearch/DiT models.py) with adaLN-Zero blocks, predicting the
 * flow-matching velocity v = ε − x0 for x_σ = (1 − σ)·x0 + σ·ε at model timestep t = 1000·σ (SD3,
 * arXiv 2403.03206; diffusers' FlowMatchEulerDiscreteScheduler convention), split at its blocks as a
 * `BlockDenoiser` so feature caches can hook it.
 *
 *   stem:   tokens = Linear(patch (c, py, px)) + pos_embed;  c = MLP([cos, sin](t·f_i)) + E[y],
 *           f_i = exp(−ln(10000)·i/half), MLP = Linear → SiLU → Linear, E row `null_class` = unconditional
 *   block:  (shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp) = Linear(SiLU(c))
 *           x ← x + gate_msa·Attn(modulate(LN(x), shift_msa, scale_msa))
 *           x ← x + gate_mlp·MLP(modulate(LN(x), shift_mlp, scale_mlp)),  modulate(x, a, b) = x·(1 + b) + a
 *           LN without affine (eps 1e-6), Attn = softmax(q kᵀ/√d) v over heads, MLP = fc2(GELU_tanh(fc1))
 *   head:   (shift, scale) = Linear(SiLU(c)); Linear(modulate(LN(x), shift, scale)) per token (py, px, c);
 *           unpatchify to [C, H, W].
 *
 * `runBlock(i, { tokens })` (ToCa / RAS): keys and values from every row of the block input, queries,
 * the projection and the MLP only for the selected rows (the same token indices in every item).
 * Compute is f32 on core-tensor's CPU backend (`linear`, `layernorm`, `sdpa`, `gelu`); the elementwise
 * modulation and gating run as plain loops.
 */
import {
  gelu,
  keep,
  layernorm,
  linear,
  readF32,
  type SafetensorsReader,
  scope,
  sdpa,
  type Tensor,
} from '@hasten/core-tensor';
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass, RunBlockOptions } from '../block-denoiser';
import type { Sample } from '../types';
import { parseOptions } from '../util';
import { f32Tensor, readCheckpoint } from './checkpoint';

const NAME = 'DiT';

const positiveInt = z.number().int().positive();

/** config.json of a DiT fixture (tools/fixtures/glyph_dit.py), HF-style snake_case keys. */
export const DiTConfig = z
  .strictObject({
    model_type: z.literal('hasten_glyph_dit'),
    architectures: z.array(z.string()).optional(),
    image_size: positiveInt,
    patch_size: positiveInt,
    in_channels: positiveInt,
    out_channels: positiveInt,
    hidden_size: positiveInt,
    depth: positiveInt,
    num_heads: positiveInt,
    mlp_ratio: positiveInt,
    frequency_embedding_size: positiveInt.refine((n) => n % 2 === 0, 'must be even'),
    num_classes: positiveInt,
    null_class: z.number().int().nonnegative(),
    class_dropout_prob: z.number().min(0).max(1).optional(),
    layer_norm_eps: z.number().positive(),
    prediction_type: z.literal('flow_prediction'),
    num_train_timesteps: positiveInt,
    classes: z.string().optional(),
    scheduler: z
      .strictObject({
        class_name: z.string(),
        num_train_timesteps: positiveInt,
        shift: z.number().positive(),
      })
      .optional(),
  })
  .refine((c) => c.image_size % c.patch_size === 0, {
    message: 'image_size must be a multiple of patch_size',
    path: ['image_size'],
  })
  .refine((c) => c.hidden_size % c.num_heads === 0, {
    message: 'hidden_size must be a multiple of num_heads',
    path: ['hidden_size'],
  })
  .refine((c) => c.null_class === c.num_classes, {
    message: 'null_class must equal num_classes (the extra row of the label table)',
    path: ['null_class'],
  })
  .refine((c) => c.in_channels === c.out_channels, {
    message: 'out_channels must equal in_channels (the velocity has the shape of the sample)',
    path: ['out_channels'],
  });
export type DiTConfig = z.output<typeof DiTConfig>;

interface Lin {
  w: Tensor;
  b: Tensor;
}

interface BlockWeights {
  ada: Lin;
  q: Lin;
  k: Lin;
  v: Lin;
  proj: Lin;
  fc1: Lin;
  fc2: Lin;
}

interface DiTWeights {
  patch: Lin;
  posEmbed: Float32Array;
  t0: Lin;
  t2: Lin;
  labels: Float32Array;
  blocks: BlockWeights[];
  finalAda: Lin;
  finalLinear: Lin;
}

/** Expected tensor names and shapes for `cfg`. */
function expectedShapes(cfg: DiTConfig): Map<string, number[]> {
  const h = cfg.hidden_size;
  const p = cfg.patch_size;
  const T = (cfg.image_size / p) ** 2;
  const m = new Map<string, number[]>();
  const lin = (name: string, out: number, inp: number) => {
    m.set(`${name}.weight`, [out, inp]);
    m.set(`${name}.bias`, [out]);
  };
  lin('x_embedder.proj', h, cfg.in_channels * p * p);
  m.set('pos_embed', [1, T, h]);
  lin('t_embedder.mlp.0', h, cfg.frequency_embedding_size);
  lin('t_embedder.mlp.2', h, h);
  m.set('y_embedder.embedding_table.weight', [cfg.num_classes + 1, h]);
  for (let i = 0; i < cfg.depth; i++) {
    lin(`blocks.${i}.adaLN_modulation.1`, 6 * h, h);
    lin(`blocks.${i}.attn.qkv`, 3 * h, h);
    lin(`blocks.${i}.attn.proj`, h, h);
    lin(`blocks.${i}.mlp.fc1`, cfg.mlp_ratio * h, h);
    lin(`blocks.${i}.mlp.fc2`, h, cfg.mlp_ratio * h);
  }
  lin('final_layer.adaLN_modulation.1', 2 * h, h);
  lin('final_layer.linear', p * p * cfg.out_channels, h);
  return m;
}

/** A weight tensor, exempt from any enclosing `scope` (the model owns it until `dispose()`). */
function weightTensor(values: Float32Array, shape: readonly number[]): Tensor {
  return keep(f32Tensor(values, shape));
}

/** A copy of a tensor's values (its storage may be released when its scope closes). */
function values(t: Tensor): Float32Array {
  return readF32(t).slice();
}

function splitRows(w: Float32Array, b: Float32Array, inp: number, parts: number): Lin[] {
  const out = b.length / parts;
  const res: Lin[] = [];
  for (let k = 0; k < parts; k++) {
    res.push({
      w: weightTensor(w.slice(k * out * inp, (k + 1) * out * inp), [out, inp]),
      b: weightTensor(b.slice(k * out, (k + 1) * out), [out]),
    });
  }
  return res;
}

/** out[r, j] = n[r, j]·(1 + scale[item(r), j]) + shift[item(r), j]; `mod` rows hold chunks of width h. */
function modulate(
  n: Float32Array,
  mod: Float32Array,
  modWidth: number,
  shiftChunk: number,
  scaleChunk: number,
  rowsPerItem: number,
  h: number,
): Float32Array {
  const out = new Float32Array(n.length);
  const rows = n.length / h;
  for (let r = 0; r < rows; r++) {
    const item = Math.floor(r / rowsPerItem);
    const sh = item * modWidth + shiftChunk * h;
    const sc = item * modWidth + scaleChunk * h;
    const o = r * h;
    for (let j = 0; j < h; j++) out[o + j] = n[o + j] * (1 + mod[sc + j]) + mod[sh + j];
  }
  return out;
}

/** x[r, j] += gate[item(r), j]·y[r, j], in place. */
function gatedAdd(
  x: Float32Array,
  y: Float32Array,
  mod: Float32Array,
  modWidth: number,
  gateChunk: number,
  rowsPerItem: number,
  h: number,
): void {
  const rows = x.length / h;
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(r / rowsPerItem) * modWidth + gateChunk * h;
    const o = r * h;
    for (let j = 0; j < h; j++) x[o + j] += mod[g + j] * y[o + j];
  }
}

/** Rows `tokens` of every item of a [B, T, h] buffer, as [B, k, h]. */
function gatherRows(x: Float32Array, batch: number, T: number, h: number, tokens: Int32Array): Float32Array {
  const k = tokens.length;
  const out = new Float32Array(batch * k * h);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < k; r++) {
      const src = (b * T + tokens[r]) * h;
      out.set(x.subarray(src, src + h), (b * k + r) * h);
    }
  }
  return out;
}

export class DiT implements BlockDenoiser<number> {
  readonly predictionType = 'flow_prediction' as const;
  readonly architecture = 'dit' as const;
  readonly numBlocks: number;
  readonly sampleSize: number;
  /** Tokens per item ((image_size / patch_size)²). */
  readonly numTokens: number;
  readonly hiddenSize: number;
  private disposed = false;

  private constructor(
    readonly config: DiTConfig,
    private readonly w: DiTWeights,
  ) {
    this.numBlocks = config.depth;
    this.sampleSize = config.in_channels * config.image_size * config.image_size;
    this.numTokens = (config.image_size / config.patch_size) ** 2;
    this.hiddenSize = config.hidden_size;
  }

  /** Parses a config.json object with the strict `DiTConfig` schema (errors name the field). */
  static parseConfig(config: unknown): DiTConfig {
    return parseOptions(`${NAME} config`, DiTConfig, config);
  }

  /**
   * Builds the model from config.json (parsed object) and the bytes of model.safetensors (or an open
   * reader); isomorphic. Every tensor of the checkpoint must be present with its expected shape, and
   * no other (f16 / bf16 weights are widened to f32).
   */
  static async fromSafetensors(
    config: unknown,
    weights: ArrayBuffer | Uint8Array | SafetensorsReader,
  ): Promise<DiT> {
    const cfg = DiT.parseConfig(config);
    const expected = expectedShapes(cfg);
    const raw = await readCheckpoint(NAME, weights, expected);
    const get = (n: string) => raw.get(n) as Float32Array;
    const lin = (n: string): Lin => {
      const [out, inp] = expected.get(`${n}.weight`) as number[];
      return { w: weightTensor(get(`${n}.weight`), [out, inp]), b: weightTensor(get(`${n}.bias`), [out]) };
    };
    const h = cfg.hidden_size;
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < cfg.depth; i++) {
      const [q, k, v] = splitRows(get(`blocks.${i}.attn.qkv.weight`), get(`blocks.${i}.attn.qkv.bias`), h, 3);
      blocks.push({
        ada: lin(`blocks.${i}.adaLN_modulation.1`),
        q,
        k,
        v,
        proj: lin(`blocks.${i}.attn.proj`),
        fc1: lin(`blocks.${i}.mlp.fc1`),
        fc2: lin(`blocks.${i}.mlp.fc2`),
      });
    }
    return new DiT(cfg, {
      patch: lin('x_embedder.proj'),
      posEmbed: get('pos_embed'),
      t0: lin('t_embedder.mlp.0'),
      t2: lin('t_embedder.mlp.2'),
      labels: get('y_embedder.embedding_table.weight'),
      blocks,
      finalAda: lin('final_layer.adaLN_modulation.1'),
      finalLinear: lin('final_layer.linear'),
    });
  }

  /** Releases the weight tensors; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.w;
    const lins = [
      w.patch,
      w.t0,
      w.t2,
      w.finalAda,
      w.finalLinear,
      ...w.blocks.flatMap((b) => Object.values(b) as Lin[]),
    ];
    for (const l of lins) {
      l.w.dispose();
      l.b.dispose();
    }
  }

  /** DiT: no skip features, so every span [start, end) within the stack is balanced. */
  balancedSpan(start: number, end: number): boolean {
    return (
      Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.numBlocks
    );
  }

  /** Patch tokens [B, T, C·p·p], patch order (c, py, px), tokens row-major. */
  patchify(x: ArrayLike<number>, batch: number): Float32Array {
    const { image_size: S, patch_size: p, in_channels: C } = this.config;
    const g = S / p;
    const pp = C * p * p;
    const out = new Float32Array(batch * g * g * pp);
    let o = 0;
    for (let b = 0; b < batch; b++) {
      for (let gy = 0; gy < g; gy++) {
        for (let gx = 0; gx < g; gx++) {
          for (let c = 0; c < C; c++) {
            for (let py = 0; py < p; py++) {
              const row = ((b * C + c) * S + gy * p + py) * S + gx * p;
              for (let px = 0; px < p; px++) out[o++] = x[row + px];
            }
          }
        }
      }
    }
    return out;
  }

  /** Per-token outputs [B, T, p·p·C] (order py, px, c) back to [B, C, H, W], as f64. */
  unpatchify(y: Float32Array, batch: number): Sample {
    const { image_size: S, patch_size: p, out_channels: C } = this.config;
    const g = S / p;
    const out = new Float64Array(batch * C * S * S);
    let i = 0;
    for (let b = 0; b < batch; b++) {
      for (let gy = 0; gy < g; gy++) {
        for (let gx = 0; gx < g; gx++) {
          for (let py = 0; py < p; py++) {
            for (let px = 0; px < p; px++) {
              for (let c = 0; c < C; c++) out[((b * C + c) * S + gy * p + py) * S + gx * p + px] = y[i++];
            }
          }
        }
      }
    }
    return out;
  }

  /** Sinusoidal timestep features [cos(t·f_i), sin(t·f_i)], f_i = exp(−ln(10000)·i/half), rounded like f32. */
  timestepFeatures(t: number): Float32Array {
    const dim = this.config.frequency_embedding_size;
    const half = dim / 2;
    const out = new Float32Array(dim);
    const lnMax = Math.fround(-Math.log(10000));
    const tt = Math.fround(t);
    for (let i = 0; i < half; i++) {
      const f = Math.fround(Math.exp(Math.fround(Math.fround(lnMax * i) / half)));
      const arg = Math.fround(tt * f);
      out[i] = Math.cos(arg);
      out[half + i] = Math.sin(arg);
    }
    return out;
  }

  begin(x: Sample | Float32Array, t: number, cond: readonly (number | null)[]): DenoiserPass {
    if (this.disposed) throw new Error(`${NAME}.begin: the model was disposed`);
    const cfg = this.config;
    const batch = cond.length;
    if (batch === 0) throw new Error(`${NAME}.begin: cond must have one entry per batch item, got none`);
    if (x.length !== batch * this.sampleSize) {
      throw new Error(
        `${NAME}.begin: x has ${x.length} values, expected ${batch} items (cond entries) × ${this.sampleSize}`,
      );
    }
    if (!Number.isFinite(t)) throw new Error(`${NAME}.begin: timestep t must be finite, got ${t}`);
    const labels = cond.map((y, i) => {
      if (y === null) return cfg.null_class;
      if (!Number.isInteger(y) || y < 0 || y >= cfg.num_classes) {
        throw new Error(
          `${NAME}.begin: cond[${i}] must be a class id 0..${cfg.num_classes - 1} or null, got ${String(y)}`,
        );
      }
      return y;
    });
    const h = cfg.hidden_size;
    const T = this.numTokens;
    const w = this.w;
    const { stem, siluC } = scope(() => {
      const patches = this.patchify(x, batch);
      const emb = values(
        linear(f32Tensor(patches, [batch, T, patches.length / (batch * T)]), w.patch.w, w.patch.b),
      );
      for (let b = 0; b < batch; b++) {
        const o = b * T * h;
        for (let i = 0; i < T * h; i++) emb[o + i] += w.posEmbed[i];
      }
      const tf = f32Tensor(this.timestepFeatures(t), [1, cfg.frequency_embedding_size]);
      const t1 = values(linear(tf, w.t0.w, w.t0.b));
      for (let j = 0; j < h; j++) t1[j] = silu(t1[j]);
      const tEmb = values(linear(f32Tensor(t1, [1, h]), w.t2.w, w.t2.b));
      const sc = new Float32Array(batch * h);
      for (let b = 0; b < batch; b++) {
        const row = labels[b] * h;
        for (let j = 0; j < h; j++) sc[b * h + j] = silu(Math.fround(tEmb[j] + w.labels[row + j]));
      }
      return { stem: emb, siluC: sc };
    });
    return new DiTPass(this, w, batch, stem, siluC);
  }
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

class DiTPass implements DenoiserPass {
  hidden: Float32Array;
  shape: readonly number[];
  private readonly mods: (Float32Array | undefined)[];
  private readonly h: number;
  private readonly T: number;

  constructor(
    private readonly model: DiT,
    private readonly w: DiTWeights,
    readonly batch: number,
    private readonly stem: Float32Array,
    private readonly siluC: Float32Array,
  ) {
    this.h = model.hiddenSize;
    this.T = model.numTokens;
    this.hidden = stem.slice();
    this.shape = [batch, this.T, this.h];
    this.mods = new Array(model.numBlocks);
  }

  /** The adaLN modulation of block i (6 chunks of h per item), computed once per pass. */
  private modulation(i: number): Float32Array {
    let m = this.mods[i];
    if (!m) {
      const ada = this.w.blocks[i].ada;
      m = scope(() => values(linear(f32Tensor(this.siluC, [this.batch, this.h]), ada.w, ada.b)));
      this.mods[i] = m;
    }
    return m;
  }

  private checkHidden(what: string): void {
    const n = this.batch * this.T * this.h;
    if (this.hidden.length !== n) {
      throw new Error(
        `${NAME}.${what}: hidden has ${this.hidden.length} values, expected [${this.batch}, ${this.T}, ${this.h}] = ${n}`,
      );
    }
  }

  private checkTokens(tokens: Int32Array): void {
    for (let r = 0; r < tokens.length; r++) {
      const v = tokens[r];
      if (v < 0 || v >= this.T || (r > 0 && v <= tokens[r - 1])) {
        throw new Error(
          `${NAME}.runBlock: option 'tokens' must be strictly ascending token indices in 0..${this.T - 1}; entry ${r} is ${v}`,
        );
      }
    }
  }

  runBlock(i: number, options?: RunBlockOptions): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.model.numBlocks) {
      throw new Error(
        `${NAME}.runBlock: block index must be an integer in 0..${this.model.numBlocks - 1}, got ${i}`,
      );
    }
    const o = parseOptions(`${NAME}.runBlock`, RunBlockOptionsSchema, options);
    this.checkHidden('runBlock');
    const tokens = o.tokens;
    if (tokens) {
      this.checkTokens(tokens);
      if (tokens.length === 0) return;
    }
    const { batch: B, T, h } = this;
    const eps = this.model.config.layer_norm_eps;
    const heads = this.model.config.num_heads;
    const d = h / heads;
    const k = tokens ? tokens.length : T;
    const bw = this.w.blocks[i];
    const mod = this.modulation(i);
    const M = 6 * h;
    const x = this.hidden;
    const xs = scope(() => {
      const n1 = values(layernorm(f32Tensor(x, [B, T, h]), undefined, undefined, eps));
      const m1 = modulate(n1, mod, M, 0, 1, T, h);
      const m1t = f32Tensor(m1, [B, T, h]);
      const heads4 = (t: Tensor, rows: number) =>
        t.reshape([B, rows, heads, d]).permute([0, 2, 1, 3]).contiguous();
      const kk = heads4(linear(m1t, bw.k.w, bw.k.b), T);
      const vv = heads4(linear(m1t, bw.v.w, bw.v.b), T);
      const mq = tokens ? f32Tensor(gatherRows(m1, B, T, h, tokens), [B, k, h]) : m1t;
      const qq = heads4(linear(mq, bw.q.w, bw.q.b), k);
      const att = sdpa(qq, kk, vv).permute([0, 2, 1, 3]).contiguous().reshape([B, k, h]);
      const a = values(linear(att, bw.proj.w, bw.proj.b));
      const rows = tokens ? gatherRows(x, B, T, h, tokens) : x.slice();
      gatedAdd(rows, a, mod, M, 2, k, h);
      const n2 = values(layernorm(f32Tensor(rows, [B, k, h]), undefined, undefined, eps));
      const m2 = f32Tensor(modulate(n2, mod, M, 3, 4, k, h), [B, k, h]);
      const f = values(
        linear(gelu(linear(m2, bw.fc1.w, bw.fc1.b), { approximate: 'tanh' }), bw.fc2.w, bw.fc2.b),
      );
      gatedAdd(rows, f, mod, M, 5, k, h);
      return rows;
    });
    if (!tokens) {
      this.hidden = xs;
      return;
    }
    const out = x.slice();
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < k; r++)
        out.set(xs.subarray((b * k + r) * h, (b * k + r + 1) * h), (b * T + tokens[r]) * h);
    }
    this.hidden = out;
  }

  modulatedInput(): Float32Array {
    const { batch: B, T, h } = this;
    const mod = this.modulation(0);
    const eps = this.model.config.layer_norm_eps;
    const n1 = scope(() => values(layernorm(f32Tensor(this.stem, [B, T, h]), undefined, undefined, eps)));
    return modulate(n1, mod, 6 * h, 0, 1, T, h);
  }

  finish(): Sample {
    this.checkHidden('finish');
    const { batch: B, T, h } = this;
    const eps = this.model.config.layer_norm_eps;
    const y = scope(() => {
      const mod = values(linear(f32Tensor(this.siluC, [B, h]), this.w.finalAda.w, this.w.finalAda.b));
      const n = values(layernorm(f32Tensor(this.hidden, [B, T, h]), undefined, undefined, eps));
      const m = f32Tensor(modulate(n, mod, 2 * h, 0, 1, T, h), [B, T, h]);
      return values(linear(m, this.w.finalLinear.w, this.w.finalLinear.b));
    });
    return this.model.unpatchify(y, B);
  }
}

const RunBlockOptionsSchema = z.strictObject({
  tokens: z.instanceof(Int32Array).optional(),
});
