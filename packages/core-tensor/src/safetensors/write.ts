/**
 * @file Writing safetensors (https://github.com/huggingface/safetensors, README "Format").
 * Like the reference serializer, tensors are laid out by element size (largest first), then by
 * name, and the header is padded with spaces to a multiple of 8 bytes, so every tensor's data is
 * aligned to its element size and a reader can view it in place. Any view (strided, offset) is
 * written in logical row-major order.
 */
import { z } from 'zod';
import { BYTES_PER_ELEMENT } from '../dtype';
import { Tensor } from '../tensor';
import { assertLittleEndian, SAFETENSORS_DTYPE } from './dtypes';
import { SafetensorsError } from './errors';

export type TensorDict = Record<string, Tensor> | ReadonlyMap<string, Tensor>;

const Metadata = z.record(z.string(), z.string());

export interface SafetensorsPlan {
  /** The 8-byte length and the padded header JSON. */
  header: Uint8Array;
  /** Tensors in data order with their byte counts. */
  entries: { name: string; tensor: Tensor; byteLength: number }[];
  /** header.byteLength + the sum of the entries' byte counts. */
  totalBytes: number;
}

/** Validate the inputs and lay out the file (no tensor data is read). */
export function planSafetensors(
  tensors: TensorDict,
  metadata?: Record<string, string>,
  file?: string,
): SafetensorsPlan {
  assertLittleEndian(file);
  const list =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, Tensor>);
  const meta = Metadata.safeParse(metadata ?? {});
  if (!meta.success)
    throw new SafetensorsError(
      file,
      `metadata must map strings to strings: ${meta.error.issues[0].message} at '${meta.error.issues[0].path.join('.')}'`,
    );
  const entries = list.map(([name, tensor]) => {
    if (name === '__metadata__')
      throw new SafetensorsError(file, "'__metadata__' is reserved and cannot name a tensor");
    if (!(tensor instanceof Tensor))
      throw new SafetensorsError(
        file,
        `expected a Tensor, got ${tensor === null ? 'null' : typeof tensor}`,
        name,
      );
    if (tensor.disposed) throw new SafetensorsError(file, 'the tensor was disposed', name);
    return { name, tensor, byteLength: tensor.size * BYTES_PER_ELEMENT[tensor.dtype] };
  });
  entries.sort((a, b) => {
    const d = BYTES_PER_ELEMENT[b.tensor.dtype] - BYTES_PER_ELEMENT[a.tensor.dtype];
    return d !== 0 ? d : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });

  const json: Record<string, unknown> = {};
  if (Object.keys(meta.data).length > 0) json.__metadata__ = meta.data;
  let offset = 0;
  for (const e of entries) {
    json[e.name] = {
      dtype: SAFETENSORS_DTYPE[e.tensor.dtype],
      shape: e.tensor.shape,
      data_offsets: [offset, offset + e.byteLength],
    };
    offset += e.byteLength;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const n = Math.ceil(text.byteLength / 8) * 8;
  const header = new Uint8Array(8 + n).fill(0x20, 8); // spaces
  new DataView(header.buffer).setBigUint64(0, BigInt(n), true);
  header.set(text, 8);
  return { header, entries, totalBytes: header.byteLength + offset };
}

/** A tensor's bytes in logical order. */
export async function tensorBytes(t: Tensor): Promise<Uint8Array> {
  const raw = await t.raw();
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The bytes of a safetensors file holding `tensors` (async because reading a tensor is). */
export async function writeSafetensors(
  tensors: TensorDict,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const plan = planSafetensors(tensors, metadata);
  const out = new Uint8Array(plan.totalBytes);
  out.set(plan.header, 0);
  let pos = plan.header.byteLength;
  for (const e of plan.entries) {
    out.set(await tensorBytes(e.tensor), pos);
    pos += e.byteLength;
  }
  return out;
}
