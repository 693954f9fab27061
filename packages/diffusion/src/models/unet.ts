/**
 * @file Class-conditional UNet predicting ε (the Stable Diffusion 1.x recipe at toy scale: Rombach et
 * al., arXiv 2112.10752; DDPM ε-objective, Ho et al., arXiv 2006.11239; tensor names follow
 * diffusers' UNet2DConditionModel where they exist), split at its blocks as a `BlockDenoiser` so
 * feature caches (DeepCache) can hook it. Layout of tools/fixtures/glyph_unet.py, levels ℓ = 0..L−1
 * with channels C_ℓ = block_out_channels[ℓ]:
 *
 *   stem:   h = conv_in(x) (3x3);  e = Linear₂(SiLU(Linear₁(φ(t)))) + E[y]  (E row null_class_id = unconditional)
 *           φ(t) = [cos(t·f_k), sin(t·f_k)], f_k = exp(−ln(10000)·k / (half − freq_shift)), k < half
 *           (diffusers `Timesteps(flip_sin_to_cos=True, downscale_freq_shift=freq_shift)`)
 *   Res(h): r = conv1(SiLU(GN₁(h))) + Linear(SiLU(e))[:, :, None, None];  r = conv2(SiLU(GN₂(r)));
 *           out = shortcut(h) + r   (shortcut: 1x1 conv when the channel count changes, else identity)
 *   blocks: down_ℓ (ℓ < L):  h = Res(h); push h; h = conv3x3 stride 2 (h)  (no downsample on the last level)
 *           mid:             h = Res(h)
 *           up_ℓ (ℓ = L−1..0): h = Res(concat[h, pop()]); h = conv3x3(nearest2x(h))  (no upsample on level 0)
 *   head:   ε = conv_out(SiLU(GN(h)))
 *
 * Block order: down_0 … down_{L−1}, mid, up_{L−1} … up_0 (7 blocks for 3 levels). A span is balanced
 * when each pop in it matches a push in it ([1, 6) is DeepCache's deep branch for cacheBranchId 0).
 * `modulatedInput()` returns the conv_in output (the first block's input, x-dependent and cheap; the
 * timestep enters the blocks additively, so there is no adaLN-style modulated input to take).
 * Compute is f32 on core-tensor's CPU backend (`conv2d`, `groupnorm`, `linear`, `silu`).
 */
import {
  add,
  concat,
  conv2d,
  groupnorm,
  linear,
  readF32,
  type SafetensorsReader,
  scope,
  silu,
  type Tensor,
} from '@hasten/core-tensor';
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass, RunBlockOptions } from '../block-denoiser';
import type { Sample } from '../types';
import { parseOptions } from '../util';
import { f32Tensor, readCheckpoint } from './checkpoint';

const NAME = 'UNet';
const positiveInt = z.number().int().positive();

/** config.json of a UNet fixture (tools/fixtures/glyph_unet.py), snake_case keys as diffusers. */
export const UNetConfig = z
  .strictObject({
    model_type: z.literal('hasten_glyph_unet'),
    sample_size: positiveInt,
    in_channels: positiveInt,
    out_channels: positiveInt,
    block_out_channels: z.array(positiveInt).min(1),
    layers_per_block: z.literal(1),
    norm_num_groups: positiveInt,
    norm_eps: z.number().positive(),
    timestep_channels: positiveInt.refine((n) => n % 2 === 0, 'must be even'),
    time_embed_dim: positiveInt,
    flip_sin_to_cos: z.boolean(),
    freq_shift: z.number(),
    num_class_embeds: positiveInt,
    null_class_id: z.number().int().nonnegative(),
    classes: z.string().optional(),
    prediction_type: z.literal('epsilon'),
    num_train_timesteps: positiveInt,
    beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']),
    beta_start: z.number().positive(),
    beta_end: z.number().positive(),
    cfg_dropout: z.number().min(0).max(1).optional(),
    block_order: z.array(z.string()).optional(),
  })
  .refine((c) => c.null_class_id === c.num_class_embeds - 1, {
    message: 'null_class_id must be the last row of the class embedding (num_class_embeds − 1)',
    path: ['null_class_id'],
  })
  .refine((c) => c.sample_size % 2 ** (c.block_out_channels.length - 1) === 0, {
    message: 'sample_size must be divisible by 2^(levels − 1)',
    path: ['sample_size'],
  })
  .refine((c) => c.block_out_channels.every((ch) => ch % c.norm_num_groups === 0), {
    message: 'every entry of block_out_channels must be a multiple of norm_num_groups',
    path: ['block_out_channels'],
  })
  .refine((c) => c.timestep_channels / 2 - c.freq_shift !== 0, {
    message: 'freq_shift must differ from timestep_channels / 2',
    path: ['freq_shift'],
  });
export type UNetConfig = z.output<typeof UNetConfig>;

/** Blocks accept no options (`tokens` is DiT-only). */
const UNetRunBlockOptions = z.strictObject({}).optional();

interface Conv {
  w: Tensor;
  b: Tensor;
}
interface Norm {
  w: Tensor;
  b: Tensor;
}
interface Res {
  norm1: Norm;
  conv1: Conv;
  temb: Conv;
  norm2: Norm;
  conv2: Conv;
  shortcut?: Conv;
}
interface UNetWeights {
  convIn: Conv;
  time1: Conv;
  time2: Conv;
  classEmb: Float32Array;
  down: { res: Res; downsample?: Conv }[];
  mid: Res;
  /** Indexed by level (up[L−1] runs first). */
  up: { res: Res; upsample?: Conv }[];
  normOut: Norm;
  convOut: Conv;
}

/** A copy of a tensor's values (its storage is released when its scope closes). */
function values(t: Tensor): Float32Array {
  return readF32(t).slice();
}

/** Expected tensor names and shapes for `cfg`. */
function expectedShapes(cfg: UNetConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const ch = cfg.block_out_channels;
  const L = ch.length;
  const te = cfg.time_embed_dim;
  const conv = (name: string, out: number, inp: number, k: number) => {
    m.set(`${name}.weight`, [out, inp, k, k]);
    m.set(`${name}.bias`, [out]);
  };
  const lin = (name: string, out: number, inp: number) => {
    m.set(`${name}.weight`, [out, inp]);
    m.set(`${name}.bias`, [out]);
  };
  const norm = (name: string, c: number) => {
    m.set(`${name}.weight`, [c]);
    m.set(`${name}.bias`, [c]);
  };
  const res = (name: string, cin: number, cout: number) => {
    norm(`${name}.norm1`, cin);
    conv(`${name}.conv1`, cout, cin, 3);
    lin(`${name}.time_emb_proj`, cout, te);
    norm(`${name}.norm2`, cout);
    conv(`${name}.conv2`, cout, cout, 3);
    if (cin !== cout) conv(`${name}.conv_shortcut`, cout, cin, 1);
  };
  conv('conv_in', ch[0], cfg.in_channels, 3);
  lin('time_linear_1', te, cfg.timestep_channels);
  lin('time_linear_2', te, te);
  m.set('class_embedding.weight', [cfg.num_class_embeds, te]);
  for (let l = 0; l < L; l++) {
    res(`down_blocks.${l}.resnet`, ch[Math.max(l - 1, 0)], ch[l]);
    if (l < L - 1) conv(`down_blocks.${l}.downsample`, ch[l], ch[l], 3);
  }
  res('mid_block', ch[L - 1], ch[L - 1]);
  for (let l = 0; l < L; l++) {
    res(`up_blocks.${l}.resnet`, (l < L - 1 ? ch[l + 1] : ch[L - 1]) + ch[l], ch[l]);
    if (l > 0) conv(`up_blocks.${l}.upsample`, ch[l], ch[l], 3);
  }
  norm('conv_norm_out', ch[0]);
  conv('conv_out', cfg.out_channels, ch[0], 3);
  return m;
}

export class UNet implements BlockDenoiser<number> {
  readonly predictionType = 'epsilon' as const;
  readonly architecture = 'unet' as const;
  readonly numBlocks: number;
  readonly sampleSize: number;
  /** Number of resolution levels (down blocks). */
  readonly levels: number;

  private constructor(
    readonly config: UNetConfig,
    private readonly w: UNetWeights,
  ) {
    this.levels = config.block_out_channels.length;
    this.numBlocks = 2 * this.levels + 1;
    this.sampleSize = config.in_channels * config.sample_size * config.sample_size;
  }

  /** Parses a config.json object with the strict `UNetConfig` schema (errors name the field). */
  static parseConfig(config: unknown): UNetConfig {
    return parseOptions(`${NAME} config`, UNetConfig, config);
  }

  /**
   * Builds the model from config.json (parsed object) and the bytes of model.safetensors (or an open
   * reader); isomorphic. Every tensor must be present with its expected shape, and no other
   * (f16 / bf16 weights are widened to f32).
   */
  static async fromSafetensors(
    config: unknown,
    weights: ArrayBuffer | Uint8Array | SafetensorsReader,
  ): Promise<UNet> {
    const cfg = UNet.parseConfig(config);
    const expected = expectedShapes(cfg);
    const raw = new Map<string, Tensor>();
    for (const [name, v] of await readCheckpoint(NAME, weights, expected)) {
      raw.set(name, f32Tensor(v, expected.get(name) as number[]));
    }
    const get = (n: string) => raw.get(n) as Tensor;
    const pair = (n: string): Conv => ({ w: get(`${n}.weight`), b: get(`${n}.bias`) });
    const res = (n: string): Res => ({
      norm1: pair(`${n}.norm1`),
      conv1: pair(`${n}.conv1`),
      temb: pair(`${n}.time_emb_proj`),
      norm2: pair(`${n}.norm2`),
      conv2: pair(`${n}.conv2`),
      shortcut: raw.has(`${n}.conv_shortcut.weight`) ? pair(`${n}.conv_shortcut`) : undefined,
    });
    const L = cfg.block_out_channels.length;
    const levels = [...Array(L).keys()];
    return new UNet(cfg, {
      convIn: pair('conv_in'),
      time1: pair('time_linear_1'),
      time2: pair('time_linear_2'),
      classEmb: readF32(get('class_embedding.weight')),
      down: levels.map((l) => ({
        res: res(`down_blocks.${l}.resnet`),
        downsample: l < L - 1 ? pair(`down_blocks.${l}.downsample`) : undefined,
      })),
      mid: res('mid_block'),
      up: levels.map((l) => ({
        res: res(`up_blocks.${l}.resnet`),
        upsample: l > 0 ? pair(`up_blocks.${l}.upsample`) : undefined,
      })),
      normOut: pair('conv_norm_out'),
      convOut: pair('conv_out'),
    });
  }

  /** +1 for a block that pushes a skip (down), −1 for one that pops (up), 0 for mid. */
  skipDelta(i: number): number {
    return i < this.levels ? 1 : i === this.levels ? 0 : -1;
  }

  /** True when every pop in [start, end) matches a push in it and no push is left over. */
  balancedSpan(start: number, end: number): boolean {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      start > end ||
      end > this.numBlocks
    ) {
      return false;
    }
    let depth = 0;
    for (let i = start; i < end; i++) {
      depth += this.skipDelta(i);
      if (depth < 0) return false;
    }
    return depth === 0;
  }

  /**
   * Sinusoidal timestep features as diffusers' get_timestep_embedding computes them in f32:
   * [sin, cos](t·f_k), swapped to [cos, sin] when flip_sin_to_cos.
   */
  timestepFeatures(t: number): Float32Array {
    const dim = this.config.timestep_channels;
    const half = dim / 2;
    const out = new Float32Array(dim);
    const lnMax = Math.fround(-Math.log(10000));
    const tt = Math.fround(t);
    const flip = this.config.flip_sin_to_cos;
    for (let k = 0; k < half; k++) {
      const f = Math.fround(Math.exp(Math.fround(Math.fround(lnMax * k) / (half - this.config.freq_shift))));
      const arg = Math.fround(tt * f);
      out[flip ? half + k : k] = Math.sin(arg);
      out[flip ? k : half + k] = Math.cos(arg);
    }
    return out;
  }

  /** SiLU(e) per item: the timestep + class embedding every ResBlock projects. */
  embedding(t: number, labels: readonly number[]): Float32Array {
    const te = this.config.time_embed_dim;
    const w = this.w;
    return scope(() => {
      const tf = f32Tensor(this.timestepFeatures(t), [1, this.config.timestep_channels]);
      const temb = values(linear(silu(linear(tf, w.time1.w, w.time1.b)), w.time2.w, w.time2.b));
      const e = new Float32Array(labels.length * te);
      for (let b = 0; b < labels.length; b++) {
        const row = labels[b] * te;
        for (let j = 0; j < te; j++) e[b * te + j] = temb[j] + w.classEmb[row + j];
      }
      return e;
    });
  }

  begin(x: Sample | Float32Array, t: number, cond: readonly (number | null)[]): DenoiserPass {
    const cfg = this.config;
    const batch = cond.length;
    if (batch === 0) throw new Error(`${NAME}.begin: cond must have one entry per batch item, got none`);
    if (x.length !== batch * this.sampleSize) {
      throw new Error(
        `${NAME}.begin: x has ${x.length} values, expected ${batch} items (cond entries) × ${this.sampleSize}`,
      );
    }
    if (!Number.isFinite(t)) throw new Error(`${NAME}.begin: timestep t must be finite, got ${t}`);
    const classes = cfg.num_class_embeds - 1;
    const labels = cond.map((y, i) => {
      if (y === null) return cfg.null_class_id;
      if (!Number.isInteger(y) || y < 0 || y >= classes) {
        throw new Error(
          `${NAME}.begin: cond[${i}] must be a class id 0..${classes - 1} or null, got ${String(y)}`,
        );
      }
      return y;
    });
    const S = cfg.sample_size;
    const emb = this.embedding(t, labels);
    const stem = scope(() =>
      values(
        conv2d(
          f32Tensor(Float32Array.from(x), [batch, cfg.in_channels, S, S]),
          this.w.convIn.w,
          this.w.convIn.b,
          {
            padding: 1,
          },
        ),
      ),
    );
    return new UNetPass(this, this.w, batch, emb, stem);
  }
}

/** Nearest-neighbour 2x upsampling of [B, C, H, W] (each value copied to a 2x2 patch), as a view and a copy. */
function upsampleNearest2x(x: Tensor): Tensor {
  const [b, c, h, w] = x.shape;
  return x
    .reshape([b, c, h, 1, w, 1])
    .expand([b, c, h, 2, w, 2])
    .contiguous()
    .reshape([b, c, 2 * h, 2 * w]);
}

class UNetPass implements DenoiserPass {
  hidden: Float32Array;
  shape: readonly number[];
  /** Skip features pushed by the down blocks (values and shape). */
  private readonly skips: { values: Float32Array; shape: number[] }[] = [];
  private readonly embSilu: Float32Array;

  constructor(
    private readonly model: UNet,
    private readonly w: UNetWeights,
    readonly batch: number,
    /** e = time + class embedding per item [B, time_embed_dim]. */
    readonly emb: Float32Array,
    private readonly stem: Float32Array,
  ) {
    const cfg = model.config;
    this.hidden = stem.slice();
    this.shape = [batch, cfg.block_out_channels[0], cfg.sample_size, cfg.sample_size];
    this.embSilu = emb.map((v) => v / (1 + Math.exp(-v)));
  }

  modulatedInput(): Float32Array {
    return this.stem.slice();
  }

  private res(x: Tensor, r: Res): Tensor {
    const cfg = this.model.config;
    const g = cfg.norm_num_groups;
    const eps = cfg.norm_eps;
    const e = f32Tensor(this.embSilu, [this.batch, cfg.time_embed_dim]);
    let h = conv2d(silu(groupnorm(x, g, r.norm1.w, r.norm1.b, eps)), r.conv1.w, r.conv1.b, { padding: 1 });
    const proj = linear(e, r.temb.w, r.temb.b);
    h = add(h, proj.reshape([this.batch, proj.shape[1], 1, 1]));
    h = conv2d(silu(groupnorm(h, g, r.norm2.w, r.norm2.b, eps)), r.conv2.w, r.conv2.b, { padding: 1 });
    return add(r.shortcut ? conv2d(x, r.shortcut.w, r.shortcut.b) : x, h);
  }

  private checkHidden(what: string): void {
    const n = this.shape.reduce((a, b) => a * b, 1);
    if (this.shape.length !== 4 || this.shape[0] !== this.batch || this.hidden.length !== n) {
      throw new Error(
        `${NAME}.${what}: hidden has ${this.hidden.length} values and shape [${this.shape.join(', ')}]; expected [${this.batch}, C, H, W]`,
      );
    }
  }

  runBlock(i: number, options?: RunBlockOptions): void {
    const L = this.model.levels;
    if (!Number.isInteger(i) || i < 0 || i >= this.model.numBlocks) {
      throw new Error(
        `${NAME}.runBlock: block index must be an integer in 0..${this.model.numBlocks - 1}, got ${i}`,
      );
    }
    parseOptions(`${NAME}.runBlock`, UNetRunBlockOptions, options);
    this.checkHidden('runBlock');
    const ch = this.model.config.block_out_channels;
    const { out, shape } = scope(() => {
      let h = f32Tensor(this.hidden, this.shape);
      if (i < L) {
        const blk = this.w.down[i];
        if (h.shape[1] !== ch[Math.max(i - 1, 0)]) {
          throw new Error(
            `${NAME}.runBlock(${i}): hidden has ${h.shape[1]} channels, down_${i} expects ${ch[Math.max(i - 1, 0)]}`,
          );
        }
        h = this.res(h, blk.res);
        this.skips.push({ values: values(h), shape: [...h.shape] });
        if (blk.downsample) h = conv2d(h, blk.downsample.w, blk.downsample.b, { stride: 2, padding: 1 });
      } else if (i === L) {
        h = this.res(h, this.w.mid);
      } else {
        const l = 2 * L - i;
        const skip = this.skips.pop();
        if (
          !skip ||
          skip.shape[1] !== ch[l] ||
          skip.shape[2] !== h.shape[2] ||
          skip.shape[3] !== h.shape[3]
        ) {
          throw new Error(
            `${NAME}.runBlock(${i}): up_${l} needs the skip of down_${l} [${this.batch}, ${ch[l]}, ${h.shape[2]}, ${h.shape[3]}], ` +
              `the stack top is ${skip ? `[${skip.shape.join(', ')}]` : 'empty'} (run spans that balanceSpan() accepts)`,
          );
        }
        const blk = this.w.up[l];
        h = this.res(concat([h, f32Tensor(skip.values, skip.shape)], 1), blk.res);
        if (blk.upsample) h = conv2d(upsampleNearest2x(h), blk.upsample.w, blk.upsample.b, { padding: 1 });
      }
      return { out: values(h), shape: [...h.shape] };
    });
    this.hidden = out;
    this.shape = shape;
  }

  finish(): Sample {
    this.checkHidden('finish');
    const cfg = this.model.config;
    if (this.shape[1] !== cfg.block_out_channels[0] || this.shape[2] !== cfg.sample_size) {
      throw new Error(
        `${NAME}.finish: hidden has shape [${this.shape.join(', ')}], expected the output of up_0 [${this.batch}, ${cfg.block_out_channels[0]}, ${cfg.sample_size}, ${cfg.sample_size}]`,
      );
    }
    if (this.skips.length) {
      throw new Error(
        `${NAME}.finish: ${this.skips.length} skip feature(s) pushed by down blocks were never popped`,
      );
    }
    const w = this.w;
    const y = scope(() =>
      values(
        conv2d(
          silu(
            groupnorm(
              f32Tensor(this.hidden, this.shape),
              cfg.norm_num_groups,
              w.normOut.w,
              w.normOut.b,
              cfg.norm_eps,
            ),
          ),
          w.convOut.w,
          w.convOut.b,
          { padding: 1 },
        ),
      ),
    );
    return Float64Array.from(y);
  }
}
