/**
 * @file Reading a fixture model's model.safetensors, shared by the DiT, the UNet and the glyph
 * classifier: every expected tensor present with its expected shape, no other tensor, every value
 * finite; f16 / bf16 weights widened to f32. Errors name the model and the tensor.
 */
import {
  bytesSource,
  fromStorageArray,
  SafetensorsFile,
  type SafetensorsReader,
  type Tensor,
} from '@hasten/core-tensor';

/** A CPU f32 tensor over `values` (no copy). */
export function f32Tensor(values: Float32Array, shape: readonly number[]): Tensor {
  return fromStorageArray(values, shape, 'f32', 'cpu');
}

/** The checkpoint's tensors as f32 arrays (own copies), keyed by name, in `expected`'s order. */
export async function readCheckpoint(
  model: string,
  weights: ArrayBuffer | Uint8Array | SafetensorsReader,
  expected: Map<string, number[]>,
): Promise<Map<string, Float32Array>> {
  const reader =
    weights instanceof ArrayBuffer || weights instanceof Uint8Array
      ? await SafetensorsFile.open(bytesSource(weights), { file: 'model.safetensors' })
      : weights;
  const extra = reader.names.filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`${model}: unexpected tensors in the checkpoint: ${extra.join(', ')}`);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of expected) {
    if (!reader.has(name)) throw new Error(`${model}: tensor '${name}' missing from the checkpoint`);
    const got = reader.info(name).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${model}: tensor '${name}' has shape [${got.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
    const v = Float32Array.from((await reader.raw(name, { dtype: 'f32' })) as Float32Array);
    if (!v.every(Number.isFinite)) throw new Error(`${model}: tensor '${name}' holds a non-finite value`);
    out.set(name, v);
  }
  return out;
}
