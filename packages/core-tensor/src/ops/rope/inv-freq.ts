/**
 * @file RoPE inverse frequencies, shared by every backend and model: inv_freq_i = theta^(-2i/dim) for
 * i < dim/2 (RoFormer, arXiv:2104.09864), optionally rescaled for longer contexts:
 * - linear (position interpolation, arXiv:2306.15595): inv_freq / factor.
 * - llama3: Hugging Face `_compute_llama3_parameters` (transformers modeling_rope_utils.py): with
 *   wavelen = 2π / inv_freq, low = orig / lowFreqFactor and high = orig / highFreqFactor wavelengths,
 *   wavelen < high keeps inv_freq, wavelen > low divides it by factor, and in between it blends with
 *   smooth = (orig / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor):
 *   (1 - smooth) · inv / factor + smooth · inv.
 * Everything is float64 (HF computes in float32, which differs in the last float32 bits).
 */
import { z } from 'zod';
import { TensorError } from '../../errors';
import { parseOptions } from '../checks';

const positive = z.number().positive();

export const RopeScaling = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), factor: positive }).strict(),
  z
    .object({
      type: z.literal('llama3'),
      factor: positive,
      lowFreqFactor: positive,
      highFreqFactor: positive,
      originalMaxPositionEmbeddings: positive,
    })
    .strict(),
]);
export type RopeScaling = z.input<typeof RopeScaling>;

export const RopeFrequencyOptions = z.object({ theta: positive, scaling: RopeScaling.optional() });
export type RopeFrequencyOptions = z.input<typeof RopeFrequencyOptions>;
// Built once: `.strict()` makes a new schema, too slow to repeat on every rope call of a decode step.
const StrictFrequencyOptions = RopeFrequencyOptions.strict();

export function checkScaling(op: string, scaling: RopeScaling | undefined): void {
  if (scaling?.type === 'llama3' && !(scaling.highFreqFactor > scaling.lowFreqFactor)) {
    throw new TensorError(
      op,
      `option 'scaling.highFreqFactor' (${scaling.highFreqFactor}) must be greater than 'scaling.lowFreqFactor' (${scaling.lowFreqFactor})`,
    );
  }
}

/** The dim/2 inverse frequencies for a rotary dimension `dim` (a positive even integer). */
export function ropeInvFreq(dim: number, opts: RopeFrequencyOptions): Float64Array {
  const op = 'ropeInvFreq';
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2 !== 0) {
    throw new TensorError(op, `dim must be a positive even integer, got ${dim}`);
  }
  const { theta, scaling } = parseOptions(op, StrictFrequencyOptions, opts);
  checkScaling(op, scaling);
  const inv = new Float64Array(dim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = theta ** ((-2 * i) / dim);
  if (scaling?.type === 'linear') {
    for (let i = 0; i < inv.length; i++) inv[i] /= scaling.factor;
  } else if (scaling?.type === 'llama3') {
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: orig } = scaling;
    const lowWavelen = orig / lowFreqFactor;
    const highWavelen = orig / highFreqFactor;
    for (let i = 0; i < inv.length; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) {
        inv[i] /= factor;
      } else {
        const smooth = (orig / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        inv[i] = ((1 - smooth) * inv[i]) / factor + smooth * inv[i];
      }
    }
  }
  return inv;
}
