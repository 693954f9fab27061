/**
 * @file A small, seeded, random-weight `BlockDenoiser` in plain JavaScript for testing feature caches
 * without a trained model. Two flavours of the contract in block-denoiser.ts:
 *
 * - 'dit': the sample is cut into `tokens` patches of `patchSize` values; hidden is
 *   [batch, tokens, width]. Block i: hm = LN(h)·(1 + s_i(c)) + b_i(c) (adaLN, c = time + class
 *   embedding), single-head softmax attention o = softmax(q·kᵀ/√W)·v with q from the selected rows and
 *   k, v from all rows, r = W2·tanh(W1·(hm + o)), out = h + g_i(c) ⊙ r. Rows not selected by
 *   `runBlock(i, { tokens })` keep their input.
 * - 'unet': hidden is [batch, channels, R, R]; `levels` down blocks (residual block, push the skip,
 *   2×2 average pool), a middle block, `levels` up blocks (nearest 2× upsample, add the popped skip,
 *   residual block). The residual block modulates per channel, mixes channels and a 3×3 neighbourhood.
 *
 * The time embedding uses sin/cos of π·m·t/1000 for a few small m, so block outputs change smoothly
 * from step to step (what caching relies on). Every item is computed on its own with the same order
 * of operations, so splitting a batch never changes a bit of any item's result.
 */
import { rng } from '@hasten/core-tensor';
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass, RunBlockOptions } from '../block-denoiser';
import type { PredictionType, Sample } from '../types';
import { parseOptions } from '../util';

const NAME = 'ToyBlockDenoiser';

export const ToyBlockDenoiserOptions = z.strictObject({
  architecture: z.enum(['dit', 'unet']).default('dit'),
  seed: z.number().int().nonnegative().default(0),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample', 'flow_prediction']).default('epsilon'),
  /** Class labels 0..numClasses−1 (plus the null class for `cond === null`). */
  numClasses: z.number().int().positive().default(4),
  /** DiT: tokens, values per token, hidden width, blocks. */
  tokens: z.number().int().positive().default(8),
  patchSize: z.number().int().positive().default(4),
  width: z.number().int().positive().default(16),
  numBlocks: z.number().int().positive().default(6),
  /** UNet: hidden channels, sample channels, side of the square sample, down/up levels. */
  channels: z.number().int().positive().default(8),
  inChannels: z.number().int().positive().default(1),
  resolution: z.number().int().positive().default(8),
  levels: z.number().int().positive().default(2),
});
export type ToyBlockDenoiserOptions = z.input<typeof ToyBlockDenoiserOptions>;

const FREQS = [0.5, 1, 1.5, 2];

/** Dense matrix rows×cols with N(0, scale²/cols) entries. */
function matrix(g: ReturnType<typeof rng>, rows: number, cols: number, scale = 1): Float64Array {
  const m = g.normal(rows * cols);
  const f = scale / Math.sqrt(cols);
  for (let i = 0; i < m.length; i++) m[i] *= f;
  return m;
}

/** y = M·x for M rows×cols (row-major), x of `cols` values from `x[xo..]`. */
function matvec(
  m: Float64Array,
  rows: number,
  cols: number,
  x: ArrayLike<number>,
  xo: number,
  y: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += m[o + c] * x[xo + c];
    y[r] = s;
  }
}

interface BlockWeights {
  scale: Float64Array;
  shift: Float64Array;
  gate: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  w1: Float64Array;
  w2: Float64Array;
  /** UNet: neighbourhood mixing. */
  wm: Float64Array;
}

export class ToyBlockDenoiser implements BlockDenoiser<number> {
  readonly predictionType: PredictionType;
  readonly architecture: 'dit' | 'unet';
  readonly numBlocks: number;
  readonly sampleSize: number;
  /** Hidden width (DiT) or channels (UNet). */
  readonly width: number;
  readonly tokens: number;
  /** Block evaluations so far, counted per item and block, full-block equivalents (token subsets pro rata). */
  blockEvaluations = 0;
  private readonly o: z.output<typeof ToyBlockDenoiserOptions>;
  private readonly timeW: Float64Array;
  private readonly classE: Float64Array;
  private readonly stemW: Float64Array;
  private readonly pos: Float64Array;
  private readonly headW: Float64Array;
  private readonly headScale: Float64Array;
  private readonly blocks: BlockWeights[];

  constructor(options: ToyBlockDenoiserOptions = {}) {
    const o = parseOptions(NAME, ToyBlockDenoiserOptions, options);
    this.o = o;
    this.architecture = o.architecture;
    this.predictionType = o.predictionType;
    const g = rng(o.seed);
    const W = o.architecture === 'dit' ? o.width : o.channels;
    this.width = W;
    if (o.architecture === 'dit') {
      this.numBlocks = o.numBlocks;
      this.tokens = o.tokens;
      this.sampleSize = o.tokens * o.patchSize;
    } else {
      if (o.resolution % 2 ** o.levels !== 0)
        throw new Error(
          `${NAME}: option 'resolution' (${o.resolution}) must be divisible by 2^levels = ${2 ** o.levels}`,
        );
      this.numBlocks = 2 * o.levels + 1;
      this.tokens = o.resolution * o.resolution;
      this.sampleSize = o.inChannels * o.resolution * o.resolution;
    }
    const inPer = o.architecture === 'dit' ? o.patchSize : o.inChannels;
    this.timeW = matrix(g, W, 2 * FREQS.length);
    this.classE = g.normal((o.numClasses + 1) * W).map((v) => 0.5 * v);
    this.stemW = matrix(g, W, inPer, 1.5);
    this.pos = g.normal(this.tokens * W).map((v) => 0.3 * v);
    this.headW = matrix(g, inPer, W);
    this.headScale = matrix(g, W, W, 0.2);
    this.blocks = Array.from({ length: this.numBlocks }, () => ({
      scale: matrix(g, W, W, 0.2),
      shift: matrix(g, W, W, 0.2),
      gate: matrix(g, W, W, 0.2),
      q: matrix(g, W, W),
      k: matrix(g, W, W),
      v: matrix(g, W, W),
      w1: matrix(g, W, W, 1.5),
      w2: matrix(g, W, W, 0.6),
      wm: matrix(g, W, W, 0.8),
    }));
  }

  /** Down blocks push a skip, up blocks pop one; a span is balanced when every pop matches a push inside it. */
  balancedSpan(start: number, end: number): boolean {
    if (
      !(
        Number.isInteger(start) &&
        Number.isInteger(end) &&
        start >= 0 &&
        end <= this.numBlocks &&
        start <= end
      )
    )
      throw new Error(`${NAME}: balancedSpan(${start}, ${end}) is not a span of [0, ${this.numBlocks})`);
    if (this.architecture === 'dit') return true;
    const L = this.o.levels;
    let depth = 0;
    for (let i = start; i < end; i++) {
      if (i < L) depth++;
      else if (i > L && --depth < 0) return false;
    }
    return depth === 0;
  }

  begin(x: Sample | Float32Array, t: number, cond: readonly (number | null)[]): DenoiserPass {
    const batch = cond.length;
    if (x.length !== batch * this.sampleSize)
      throw new Error(`${NAME}: x has ${x.length} values, expected ${batch} items × ${this.sampleSize}`);
    const W = this.width;
    const cs = cond.map((c) => {
      if (c !== null && !(Number.isInteger(c) && c >= 0 && c < this.o.numClasses))
        throw new Error(`${NAME}: class label ${c} is not an integer in [0, ${this.o.numClasses}) or null`);
      return this.conditioning(t, c);
    });
    const T = this.tokens;
    const hidden = new Float32Array(batch * T * W);
    const inPer = this.architecture === 'dit' ? this.o.patchSize : this.o.inChannels;
    const tmp = new Float64Array(W);
    const xin = new Float64Array(inPer);
    for (let b = 0; b < batch; b++) {
      for (let tok = 0; tok < T; tok++) {
        for (let j = 0; j < inPer; j++)
          xin[j] =
            this.architecture === 'dit'
              ? x[b * this.sampleSize + tok * inPer + j]
              : x[b * this.sampleSize + j * T + tok];
        matvec(this.stemW, W, inPer, xin, 0, tmp);
        for (let w = 0; w < W; w++) {
          const v = tmp[w] + this.pos[tok * W + w];
          // DiT layout [tokens, width]; UNet layout [channels, R, R].
          if (this.architecture === 'dit') hidden[(b * T + tok) * W + w] = v;
          else hidden[b * T * W + w * T + tok] = v;
        }
      }
    }
    const R = this.o.resolution;
    const shape = this.architecture === 'dit' ? [batch, T, W] : [batch, W, R, R];
    return new ToyPass(this, batch, cs, hidden, shape);
  }

  /** c = tanh(W_t·[sin(π m t/1000), cos(π m t/1000)]_m + E[class]) (E's last row: the null class). */
  private conditioning(t: number, c: number | null): Float64Array {
    const feat = new Float64Array(2 * FREQS.length);
    FREQS.forEach((m, k) => {
      feat[2 * k] = Math.sin((Math.PI * m * t) / 1000);
      feat[2 * k + 1] = Math.cos((Math.PI * m * t) / 1000);
    });
    const W = this.width;
    const out = new Float64Array(W);
    matvec(this.timeW, W, feat.length, feat, 0, out);
    const row = c === null ? this.o.numClasses : c;
    for (let w = 0; w < W; w++) out[w] = Math.tanh(out[w] + this.classE[row * W + w]);
    return out;
  }

  /** @internal Modulation vectors of block i for conditioning c. */
  modulation(i: number, c: Float64Array): { scale: Float64Array; shift: Float64Array; gate: Float64Array } {
    const W = this.width;
    const bw = this.blocks[i];
    const scale = new Float64Array(W);
    const shift = new Float64Array(W);
    const gate = new Float64Array(W);
    matvec(bw.scale, W, W, c, 0, scale);
    matvec(bw.shift, W, W, c, 0, shift);
    matvec(bw.gate, W, W, c, 0, gate);
    for (let w = 0; w < W; w++) gate[w] = 0.5 + 0.5 * Math.tanh(gate[w]);
    return { scale, shift, gate };
  }

  /** @internal hm rows (tokens × W, row-major) of one item whose rows are read by `get(tok, w)`. */
  modulate(
    i: number,
    c: Float64Array,
    get: (tok: number, w: number) => number,
    tokens: number,
  ): Float64Array {
    const W = this.width;
    const { scale, shift } = this.modulation(i, c);
    const hm = new Float64Array(tokens * W);
    for (let tok = 0; tok < tokens; tok++) {
      let mean = 0;
      for (let w = 0; w < W; w++) mean += get(tok, w);
      mean /= W;
      let v = 0;
      for (let w = 0; w < W; w++) v += (get(tok, w) - mean) ** 2;
      const inv = 1 / Math.sqrt(v / W + 1e-6);
      for (let w = 0; w < W; w++) hm[tok * W + w] = (get(tok, w) - mean) * inv * (1 + scale[w]) + shift[w];
    }
    return hm;
  }

  /** @internal */
  block(i: number): BlockWeights {
    return this.blocks[i];
  }

  /** @internal */
  get levels(): number {
    return this.o.levels;
  }

  /** @internal */
  get resolution(): number {
    return this.o.resolution;
  }

  /** @internal Head: per token/pixel, out = H·(LN(h)·(1 + S·c)). */
  head(c: Float64Array, get: (tok: number, w: number) => number, out: Float64Array, off: number): void {
    const W = this.width;
    const T = this.tokens;
    const inPer = this.architecture === 'dit' ? this.o.patchSize : this.o.inChannels;
    const s = new Float64Array(W);
    matvec(this.headScale, W, W, c, 0, s);
    const row = new Float64Array(W);
    const y = new Float64Array(inPer);
    for (let tok = 0; tok < T; tok++) {
      let mean = 0;
      for (let w = 0; w < W; w++) mean += get(tok, w);
      mean /= W;
      let v = 0;
      for (let w = 0; w < W; w++) v += (get(tok, w) - mean) ** 2;
      const inv = 1 / Math.sqrt(v / W + 1e-6);
      for (let w = 0; w < W; w++) row[w] = (get(tok, w) - mean) * inv * (1 + s[w]);
      matvec(this.headW, inPer, W, row, 0, y);
      for (let j = 0; j < inPer; j++) {
        if (this.architecture === 'dit') out[off + tok * inPer + j] = y[j];
        else out[off + j * T + tok] = y[j];
      }
    }
  }
}

class ToyPass implements DenoiserPass {
  private readonly skips: { hidden: Float32Array; shape: readonly number[] }[] = [];

  constructor(
    private readonly model: ToyBlockDenoiser,
    readonly batch: number,
    private readonly cs: Float64Array[],
    public hidden: Float32Array,
    public shape: readonly number[],
  ) {}

  runBlock(i: number, options: RunBlockOptions = {}): void {
    const m = this.model;
    if (!(Number.isInteger(i) && i >= 0 && i < m.numBlocks))
      throw new Error(`${NAME}: runBlock(${i}): block index must be an integer in [0, ${m.numBlocks})`);
    const expected = this.batch * this.shape.slice(1).reduce((a, b) => a * b, 1);
    if (this.hidden.length !== expected)
      throw new Error(
        `${NAME}: runBlock(${i}): hidden has ${this.hidden.length} values, shape [${this.shape}] needs ${expected}`,
      );
    if (m.architecture === 'dit') this.ditBlock(i, options.tokens);
    else {
      if (options.tokens !== undefined)
        throw new Error(`${NAME}: runBlock option 'tokens' is DiT-only (this model is a UNet)`);
      this.unetBlock(i);
    }
  }

  private ditBlock(i: number, tokens: Int32Array | undefined): void {
    const m = this.model;
    const T = m.tokens;
    const W = m.width;
    if (tokens !== undefined) {
      for (let k = 0; k < tokens.length; k++)
        if (!(tokens[k] >= 0 && tokens[k] < T && (k === 0 || tokens[k] > tokens[k - 1])))
          throw new Error(`${NAME}: runBlock option 'tokens' must be ascending, distinct rows in [0, ${T})`);
    }
    const rows = tokens ?? Int32Array.from({ length: T }, (_, k) => k);
    const bw = m.block(i);
    const out = this.hidden.slice();
    const q = new Float64Array(W);
    const kv = new Float64Array(T * W);
    const vv = new Float64Array(T * W);
    const tmp = new Float64Array(W);
    const a = new Float64Array(T);
    const u = new Float64Array(W);
    const r = new Float64Array(W);
    for (let b = 0; b < this.batch; b++) {
      const base = b * T * W;
      const h = this.hidden;
      const hm = m.modulate(i, this.cs[b], (tok, w) => h[base + tok * W + w], T);
      const { gate } = m.modulation(i, this.cs[b]);
      for (let tok = 0; tok < T; tok++) {
        matvec(bw.k, W, W, hm, tok * W, tmp);
        kv.set(tmp, tok * W);
        matvec(bw.v, W, W, hm, tok * W, tmp);
        vv.set(tmp, tok * W);
      }
      for (const tok of rows) {
        matvec(bw.q, W, W, hm, tok * W, q);
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let w = 0; w < W; w++) s += q[w] * kv[j * W + w];
          a[j] = s / Math.sqrt(W);
          if (a[j] > mx) mx = a[j];
        }
        let z = 0;
        for (let j = 0; j < T; j++) {
          a[j] = Math.exp(a[j] - mx);
          z += a[j];
        }
        for (let w = 0; w < W; w++) {
          let s = 0;
          for (let j = 0; j < T; j++) s += a[j] * vv[j * W + w];
          tmp[w] = hm[tok * W + w] + s / z;
        }
        matvec(bw.w1, W, W, tmp, 0, u);
        for (let w = 0; w < W; w++) u[w] = Math.tanh(u[w]);
        matvec(bw.w2, W, W, u, 0, r);
        for (let w = 0; w < W; w++) out[base + tok * W + w] = h[base + tok * W + w] + gate[w] * r[w];
      }
    }
    m.blockEvaluations += (this.batch * rows.length) / T;
    this.hidden = out;
  }

  private unetBlock(i: number): void {
    const m = this.model;
    const L = m.levels;
    const W = m.width;
    let side = this.shape[2];
    if (i > L) {
      // Up: nearest 2× upsample, then add the skip pushed by block 2L − i.
      const skip = this.skips.pop();
      if (skip === undefined) throw new Error(`${NAME}: up block ${i} found no skip feature to pop`);
      const big = side * 2;
      const up = new Float32Array(this.batch * W * big * big);
      for (let b = 0; b < this.batch; b++)
        for (let w = 0; w < W; w++)
          for (let y = 0; y < big; y++)
            for (let x = 0; x < big; x++) {
              const k = ((b * W + w) * big + y) * big + x;
              up[k] = this.hidden[((b * W + w) * side + (y >> 1)) * side + (x >> 1)] + skip.hidden[k];
            }
      side = big;
      this.hidden = up;
      this.shape = [this.batch, W, side, side];
    }
    this.resBlock(i, side);
    if (i < L) {
      this.skips.push({ hidden: this.hidden, shape: this.shape });
      const small = side / 2;
      const down = new Float32Array(this.batch * W * small * small);
      for (let b = 0; b < this.batch; b++)
        for (let w = 0; w < W; w++)
          for (let y = 0; y < small; y++)
            for (let x = 0; x < small; x++) {
              const at = (yy: number, xx: number) => this.hidden[((b * W + w) * side + yy) * side + xx];
              down[((b * W + w) * small + y) * small + x] =
                0.25 *
                (at(2 * y, 2 * x) + at(2 * y + 1, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x + 1));
            }
      this.hidden = down;
      this.shape = [this.batch, W, small, small];
    }
  }

  /** h ← h + g ⊙ W2·tanh(W1·hm + Wm·mean₃ₓ₃(hm)) per pixel (hm: channel-normalised, modulated). */
  private resBlock(i: number, side: number): void {
    const m = this.model;
    const W = m.width;
    const P = side * side;
    const bw = m.block(i);
    const out = new Float32Array(this.hidden.length);
    const u = new Float64Array(W);
    const nb = new Float64Array(W);
    const v = new Float64Array(W);
    const r = new Float64Array(W);
    for (let b = 0; b < this.batch; b++) {
      const base = b * W * P;
      const h = this.hidden;
      const hm = m.modulate(i, this.cs[b], (p, w) => h[base + w * P + p], P);
      const { gate } = m.modulation(i, this.cs[b]);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const p = y * side + x;
          nb.fill(0);
          let n = 0;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if (yy < 0 || xx < 0 || yy >= side || xx >= side) continue;
              n++;
              for (let w = 0; w < W; w++) nb[w] += hm[(yy * side + xx) * W + w];
            }
          for (let w = 0; w < W; w++) nb[w] /= n;
          matvec(bw.w1, W, W, hm, p * W, u);
          matvec(bw.wm, W, W, nb, 0, v);
          for (let w = 0; w < W; w++) u[w] = Math.tanh(u[w] + v[w]);
          matvec(bw.w2, W, W, u, 0, r);
          for (let w = 0; w < W; w++) out[base + w * P + p] = h[base + w * P + p] + gate[w] * r[w];
        }
    }
    m.blockEvaluations += this.batch;
    this.hidden = out;
  }

  modulatedInput(): Float32Array {
    const m = this.model;
    const W = m.width;
    const T = m.tokens;
    const out = new Float32Array(this.batch * T * W);
    for (let b = 0; b < this.batch; b++) {
      const base = b * T * W;
      const h = this.hidden;
      const get =
        m.architecture === 'dit'
          ? (tok: number, w: number) => h[base + tok * W + w]
          : (tok: number, w: number) => h[base + w * T + tok];
      out.set(m.modulate(0, this.cs[b], get, T), base);
    }
    return out;
  }

  finish(): Sample {
    const m = this.model;
    const W = m.width;
    const T = m.tokens;
    const full = m.architecture === 'dit' ? [this.batch, T, W] : [this.batch, W, m.resolution, m.resolution];
    if (this.shape.length !== full.length || this.shape.some((d, k) => d !== full[k]))
      throw new Error(`${NAME}: finish(): hidden has shape [${this.shape}], the head needs [${full}]`);
    const out = new Float64Array(this.batch * m.sampleSize);
    for (let b = 0; b < this.batch; b++) {
      const base = b * T * W;
      const h = this.hidden;
      const get =
        m.architecture === 'dit'
          ? (tok: number, w: number) => h[base + tok * W + w]
          : (tok: number, w: number) => h[base + w * T + tok];
      m.head(this.cs[b], get, out, b * m.sampleSize);
    }
    return out;
  }
}
