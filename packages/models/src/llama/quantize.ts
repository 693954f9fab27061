/**
 * @file Weight-only quantization of a loaded Llama-family model by round-to-nearest (RTN): every
 * linear layer's weight (q, k, v, o, gate, up, down and, by default, the LM head) becomes a
 * core-tensor `QuantizedWeight`, and the model multiplies by it with `quantLinear`, which
 * dequantises inside the product (the WebAssembly kernel on 'cpu'). Embeddings, norms and biases
 * stay f32. Decoding reads every weight once per token, so fewer bytes per weight is fewer bytes to
 * stream: what the CPU decode speed is bound by. With a tied LM head the embedding stays f32 for the
 * lookup and the head gets its own quantized copy.
 *
 * Formats (core-tensor README, "Quantized weight formats"): 'int8' (per output channel), 'int8-group'
 * and 'int4-group' (groups of 32/64/128 along K, f16 scales, symmetric), the GGUF block formats
 * 'q8_0' and 'q4_0', and 'f16' / 'bf16' (weights kept in 16 bits, converted in the kernel).
 * Per-linear formats come from `plan` (src/quant/mixed-precision-plan.ts); activation-aware scaling
 * (AWQ) is src/quant/awq.ts, applied before this RTN step.
 */
import {
  type QuantizedWeight,
  quantizeInt4Group,
  quantizeInt8Group,
  quantizeInt8PerChannel,
  quantizeQ4_0,
  quantizeQ8_0,
  readF32,
  type Tensor,
  toHalfWeight,
} from '@hasten/core-tensor';
import { z } from 'zod';
import { ModelError } from '../errors';
import { parseOptions } from '../options';
import { isQuantized, type LayerWeights, type LinearWeight, type LlamaWeights } from './weights';

const FORMATS = ['int8', 'int8-group', 'int4-group', 'q8_0', 'q4_0', 'f16', 'bf16'] as const;
const groupSize = z.union([z.literal(32), z.literal(64), z.literal(128)]).default(32);

/** One linear's format (a mixed-precision plan entry, src/quant/mixed-precision-plan.ts). */
export const LinearFormat = z.strictObject({
  format: z.enum(FORMATS),
  groupSize,
  symmetric: z.boolean().default(true),
});
export type LinearFormat = z.input<typeof LinearFormat>;

export const QuantizeOptions = z
  .strictObject({
    /** Format of every linear (not named by `plan`); without it, linears absent from `plan` stay f32. */
    format: z.enum(FORMATS).optional(),
    /** Group size of 'int8-group' / 'int4-group' (default 32). */
    groupSize,
    /** Group formats: symmetric (default) or asymmetric with a u8 zero point per group. */
    symmetric: z.boolean().default(true),
    /** Quantize the LM head too (default true: with a 150k vocabulary it is the largest matrix). */
    lmHead: z.boolean().default(true),
    /** Per-linear formats keyed 'layers.<i>.<q|k|v|o|gate|up|down>' or 'lmHead' (mixed precision). */
    plan: z
      .record(z.string().regex(/^(layers\.\d+\.(q|k|v|o|gate|up|down)|lmHead)$/), LinearFormat)
      .optional(),
  })
  .refine((o) => o.format !== undefined || o.plan !== undefined, {
    error: "one of 'format' or 'plan' is required",
    path: ['format'],
  });
export type QuantizeOptions = z.input<typeof QuantizeOptions>;

const LINEARS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;

/** One weight [N, K] (an f32 tensor on a CPU backend, or its values) in `format`. */
export function quantizeWeight(
  w: Tensor | { values: ArrayLike<number>; shape: readonly [number, number] },
  o: z.output<typeof LinearFormat>,
): QuantizedWeight {
  const [n, k] = w.shape;
  const shape = [n, k] as const;
  const values = 'values' in w ? w.values : readF32(w);
  const group = { groupSize: o.groupSize, symmetric: o.symmetric };
  switch (o.format) {
    case 'int8':
      return quantizeInt8PerChannel(values, shape);
    case 'int8-group':
      return quantizeInt8Group(values, shape, group);
    case 'int4-group':
      return quantizeInt4Group(values, shape, group);
    case 'q8_0':
      return quantizeQ8_0(values, shape);
    case 'q4_0':
      return quantizeQ4_0(values, shape);
    default:
      return toHalfWeight(values, shape, o.format);
  }
}

/** Bytes a weight takes as stored (tensor or quantized). */
export function weightBytes(w: LinearWeight): number {
  if (isQuantized(w)) return w.data.byteLength + (w.scales?.byteLength ?? 0) + (w.zeros?.byteLength ?? 0);
  return w.size * 4;
}

/** The quantized weights (new objects; the f32 ones they came from are not touched). */
export function quantizeLlamaWeights(weights: LlamaWeights, opts: QuantizeOptions): LlamaWeights {
  const o = parseOptions(QuantizeOptions, opts, 'quantize');
  const plan = o.plan ?? {};
  for (const key of Object.keys(plan)) {
    const layer = Number(key.split('.')[1]);
    if (key !== 'lmHead' && layer >= weights.layers.length)
      throw new ModelError(
        'options',
        `quantize: plan entry '${key}': the model has ${weights.layers.length} layers`,
      );
  }
  // The format of one linear: its plan entry, else the uniform format, else none (stays f32).
  const formatOf = (key: string): z.output<typeof LinearFormat> | undefined =>
    plan[key] ??
    (o.format ? { format: o.format, groupSize: o.groupSize, symmetric: o.symmetric } : undefined);
  const layers = weights.layers.map((l, i): LayerWeights => {
    const out: LayerWeights = { ...l };
    for (const name of LINEARS) {
      const w = l[name];
      const f = formatOf(`layers.${i}.${name}`);
      if (!f) continue;
      if (isQuantized(w)) {
        throw new ModelError('input', `quantize: layer ${i} ${name} is already quantized (${w.format})`);
      }
      out[name] = quantizeWeight(w, f);
    }
    return out;
  });
  const headFormat = plan.lmHead ?? (o.lmHead ? formatOf('lmHead') : undefined);
  const lmHead =
    headFormat && !isQuantized(weights.lmHead) ? quantizeWeight(weights.lmHead, headFormat) : weights.lmHead;
  return { ...weights, layers, lmHead };
}
