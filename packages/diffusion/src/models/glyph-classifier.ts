/**
 * @file The glyph classifier of tools/fixtures/glyph_classifier.py: a small CNN over 32x32 glyph
 * images in [-1, 1] that serves as a reward model (`logProbs`) and as the feature network of a
 * Fréchet distance (`features`, the role Inception-v3's pool features play in FID, Heusel et al.,
 * arXiv 1706.08500; pass them to @hasten/eval's `frechetDistance`).
 *
 *   h₀ = x;  h_k = ReLU(GN_k(conv_k(h_{k−1})))   (3x3, padding 1, strides conv_strides[k])
 *   features = mean over H, W of the last h  [feature_dim];  logits = head(features)  [num_classes]
 *   logProbs = logits − logsumexp(logits)
 *
 * Compute is f32 on core-tensor's CPU backend (`conv2d`, `groupnorm`, `relu`, `mean`, `linear`,
 * `logSoftmax`); large batches run in chunks.
 */
import {
  conv2d,
  groupnorm,
  linear,
  logSoftmax,
  mean,
  readF32,
  relu,
  type SafetensorsReader,
  scope,
  type Tensor,
} from '@hasten/core-tensor';
import { z } from 'zod';
import { parseOptions } from '../util';
import { f32Tensor, readCheckpoint } from './checkpoint';

const NAME = 'GlyphClassifier';
const positiveInt = z.number().int().positive();

/** config.json of the classifier fixture. */
export const GlyphClassifierConfig = z
  .strictObject({
    model_type: z.literal('hasten_glyph_classifier'),
    image_size: positiveInt,
    in_channels: positiveInt,
    conv_channels: z.array(positiveInt).min(1),
    conv_strides: z.array(positiveInt).min(1),
    kernel_size: z.literal(3),
    padding: z.literal(1),
    norm_num_groups: positiveInt,
    norm_eps: z.number().positive(),
    activation: z.literal('relu'),
    feature_dim: positiveInt,
    num_classes: positiveInt,
    classes: z.string().optional(),
    input_range: z.tuple([z.number(), z.number()]).optional(),
  })
  .refine((c) => c.conv_strides.length === c.conv_channels.length, {
    message: 'conv_strides must have one entry per conv_channels entry',
    path: ['conv_strides'],
  })
  .refine((c) => c.feature_dim === c.conv_channels[c.conv_channels.length - 1], {
    message: 'feature_dim must equal the last entry of conv_channels',
    path: ['feature_dim'],
  })
  .refine((c) => c.conv_channels.every((ch) => ch % c.norm_num_groups === 0), {
    message: 'every entry of conv_channels must be a multiple of norm_num_groups',
    path: ['conv_channels'],
  });
export type GlyphClassifierConfig = z.output<typeof GlyphClassifierConfig>;

/** Row-major rows × cols values; `{ data, rows, cols }` is a FeatureMatrix of @hasten/eval. */
export interface ClassifierRows {
  data: Float32Array;
  rows: number;
  cols: number;
}

interface Layer {
  conv: { w: Tensor; b: Tensor };
  norm: { w: Tensor; b: Tensor };
  stride: number;
}

/** Images per forward chunk (bounds the im2col buffers). */
const CHUNK = 64;

function expectedShapes(cfg: GlyphClassifierConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  let cin = cfg.in_channels;
  cfg.conv_channels.forEach((c, i) => {
    m.set(`convs.${i}.weight`, [c, cin, 3, 3]);
    m.set(`convs.${i}.bias`, [c]);
    m.set(`norms.${i}.weight`, [c]);
    m.set(`norms.${i}.bias`, [c]);
    cin = c;
  });
  m.set('head.weight', [cfg.num_classes, cfg.feature_dim]);
  m.set('head.bias', [cfg.num_classes]);
  return m;
}

export class GlyphClassifier {
  /** Values per image (channels · size · size). */
  readonly imageSize: number;

  private constructor(
    readonly config: GlyphClassifierConfig,
    private readonly layers: Layer[],
    private readonly head: { w: Tensor; b: Tensor },
  ) {
    this.imageSize = config.in_channels * config.image_size * config.image_size;
  }

  static parseConfig(config: unknown): GlyphClassifierConfig {
    return parseOptions(`${NAME} config`, GlyphClassifierConfig, config);
  }

  /** From config.json (parsed) and the bytes of model.safetensors (or an open reader); isomorphic. */
  static async fromSafetensors(
    config: unknown,
    weights: ArrayBuffer | Uint8Array | SafetensorsReader,
  ): Promise<GlyphClassifier> {
    const cfg = GlyphClassifier.parseConfig(config);
    const expected = expectedShapes(cfg);
    const t = new Map<string, Tensor>();
    for (const [name, v] of await readCheckpoint(NAME, weights, expected)) {
      t.set(name, f32Tensor(v, expected.get(name) as number[]));
    }
    const g = (n: string) => t.get(n) as Tensor;
    const layers = cfg.conv_channels.map((_, i) => ({
      conv: { w: g(`convs.${i}.weight`), b: g(`convs.${i}.bias`) },
      norm: { w: g(`norms.${i}.weight`), b: g(`norms.${i}.bias`) },
      stride: cfg.conv_strides[i],
    }));
    return new GlyphClassifier(cfg, layers, { w: g('head.weight'), b: g('head.bias') });
  }

  private count(images: ArrayLike<number>): number {
    const n = images.length / this.imageSize;
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(
        `${NAME}: images has ${images.length} values; expected a positive multiple of ${this.imageSize} (batch × ${this.config.in_channels} × ${this.config.image_size}²)`,
      );
    }
    for (let i = 0; i < images.length; i++) {
      if (!Number.isFinite(images[i])) throw new Error(`${NAME}: images[${i}] is not finite (${images[i]})`);
    }
    return n;
  }

  /** Runs the network on `images` in chunks; `pick` maps (features, logits) tensors to the wanted rows. */
  private run(
    images: ArrayLike<number>,
    cols: number,
    pick: (f: Tensor, logits: () => Tensor) => Tensor,
  ): ClassifierRows {
    const n = this.count(images);
    const { in_channels: C, image_size: S, norm_num_groups: G, norm_eps: eps } = this.config;
    const out = new Float32Array(n * cols);
    for (let start = 0; start < n; start += CHUNK) {
      const b = Math.min(CHUNK, n - start);
      const chunk = Float32Array.from(
        { length: b * this.imageSize },
        (_, i) => images[start * this.imageSize + i],
      );
      const rows = scope(() => {
        let h = f32Tensor(chunk, [b, C, S, S]);
        for (const l of this.layers) {
          h = relu(
            groupnorm(
              conv2d(h, l.conv.w, l.conv.b, { stride: l.stride, padding: 1 }),
              G,
              l.norm.w,
              l.norm.b,
              eps,
            ),
          );
        }
        const f = mean(h, [2, 3]);
        return readF32(pick(f, () => linear(f, this.head.w, this.head.b))).slice();
      });
      out.set(rows, start * cols);
    }
    return { data: out, rows: n, cols };
  }

  /** The `feature_dim` pooled activations per image (the Fréchet-distance features). */
  features(images: ArrayLike<number>): ClassifierRows {
    return this.run(images, this.config.feature_dim, (f) => f);
  }

  /** Class scores per image, [batch, num_classes]. */
  logits(images: ArrayLike<number>): ClassifierRows {
    return this.run(images, this.config.num_classes, (_, logits) => logits());
  }

  /** log softmax of the logits per image (a reward: logProbs row b, column of the wanted class). */
  logProbs(images: ArrayLike<number>): ClassifierRows {
    return this.run(images, this.config.num_classes, (_, logits) => logSoftmax(logits(), -1));
  }

  /** Arg-max class per image. */
  predict(images: ArrayLike<number>): Int32Array {
    const l = this.logits(images);
    const out = new Int32Array(l.rows);
    for (let r = 0; r < l.rows; r++) {
      let best = 0;
      for (let c = 1; c < l.cols; c++) if (l.data[r * l.cols + c] > l.data[r * l.cols + best]) best = c;
      out[r] = best;
    }
    return out;
  }
}
