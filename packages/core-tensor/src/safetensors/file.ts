/**
 * @file Reading safetensors (https://github.com/huggingface/safetensors) in any JS runtime.
 * - `readSafetensors(bytes)`: every tensor of an in-memory file, at once.
 * - `SafetensorsFile`: lazy. Opening reads and validates only the header; `tensor(name)` reads that
 *   tensor's byte range from a `ByteSource` and uploads it, so a large checkpoint is never held in
 *   memory whole. Sources: `bytesSource` (an ArrayBuffer, e.g. from fetch in a browser) and, in
 *   Node, positional file reads (`@hasten/core-tensor/node`).
 * A load may cast floats on the host: `{ dtype: 'f32' }` widens f16/bf16 exactly; narrowing rounds
 * to nearest even (F64 -> f16/bf16 rounds twice, through f32).
 */
import { z } from 'zod';
import { fromStorageArray } from '../creation';
import type { StorageArray } from '../dtype';
import { parseOptionsWith } from '../options';
import { sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { convertToFloat, decodeTensorBytes } from './dtypes';
import { SafetensorsError } from './errors';
import {
  parseHeaderJson,
  readHeaderLength,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './header';

/** Random access to the bytes of one file. `read` must return exactly `length` bytes. */
export interface ByteSource {
  readonly byteLength: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A ByteSource over bytes in memory (each read returns a copy the caller owns). */
export function bytesSource(buffer: ArrayBuffer | Uint8Array): ByteSource {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return {
    byteLength: bytes.byteLength,
    read: async (offset, length) => bytes.slice(offset, offset + length),
  };
}

const LoadOptions = z.strictObject({
  /** Cast floats on load (any source dtype to a float dtype). */
  dtype: z.enum(['f32', 'f16', 'bf16']).optional(),
  /** Backend for the new tensors (default: the default backend). */
  device: z.string().optional(),
});
export type SafetensorsLoadOptions = z.input<typeof LoadOptions>;

function parseLoadOptions(opts: unknown, file?: string): z.output<typeof LoadOptions> {
  return parseOptionsWith(LoadOptions, opts, (problem) => new SafetensorsError(file, problem));
}

const OpenOptions = z.strictObject({
  /** The file's name or path, for error messages. */
  file: z.string().optional(),
});

/** What a reader of one file or of a sharded checkpoint offers (names -> tensors on demand). */
export interface SafetensorsReader {
  readonly names: readonly string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  /** The tensor's values as a storage array of `info(name).dtype` (f16/bf16 as 16-bit patterns), or of `dtype`. */
  raw(name: string, opts?: Pick<SafetensorsLoadOptions, 'dtype'>): Promise<StorageArray>;
  /** A new tensor (the caller disposes it). */
  tensor(name: string, opts?: SafetensorsLoadOptions): Promise<Tensor>;
  /** Several tensors (default: all); on an error none is leaked. */
  tensors(names?: readonly string[], opts?: SafetensorsLoadOptions): Promise<Map<string, Tensor>>;
  /** Release file handles. */
  close(): Promise<void>;
}

/** Tensors one after another, so at most one raw buffer is in flight; disposes them all on error. */
export async function loadTensors(
  reader: SafetensorsReader,
  names: readonly string[] = reader.names,
  opts?: SafetensorsLoadOptions,
): Promise<Map<string, Tensor>> {
  parseLoadOptions(opts); // up front, so bad options fail even when there is nothing to load
  const out = new Map<string, Tensor>();
  try {
    for (const name of names) out.set(name, await reader.tensor(name, opts));
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
  return out;
}

/** Decode (and cast) the bytes of one tensor. */
function decode(
  info: SafetensorsTensorInfo,
  bytes: Uint8Array,
  dtype: 'f32' | 'f16' | 'bf16' | undefined,
  file?: string,
): StorageArray {
  const raw = decodeTensorBytes(bytes, info.fileDtype, sizeOf(info.shape), file, info.name);
  return dtype === undefined ? raw : convertToFloat(raw, info.dtype, dtype);
}

export function describeNames(names: readonly string[]): string {
  const shown = names
    .slice(0, 5)
    .map((n) => `'${n}'`)
    .join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown || '(none)';
}

export class SafetensorsFile implements SafetensorsReader {
  readonly names: readonly string[];

  private constructor(
    private readonly source: ByteSource,
    readonly header: SafetensorsHeader,
    /** The file's name or path, used in error messages. */
    readonly file?: string,
  ) {
    this.names = Object.freeze([...header.tensors.keys()]);
  }

  /** Read and validate the header from a source; tensors are read later, on demand. */
  static async open(source: ByteSource, options: z.input<typeof OpenOptions> = {}): Promise<SafetensorsFile> {
    const opts = parseOptionsWith(
      OpenOptions,
      options,
      (problem) => new SafetensorsError(undefined, `SafetensorsFile.open: ${problem}`),
    );
    const prefix = source.byteLength >= 8 ? await source.read(0, 8) : new Uint8Array(0);
    const n = readHeaderLength(prefix, source.byteLength, opts.file);
    const headerBytes = await source.read(8, n);
    const header = parseHeaderJson(headerBytes, 8 + n, source.byteLength - 8 - n, opts.file);
    return new SafetensorsFile(source, header, opts.file);
  }

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (!info)
      throw new SafetensorsError(
        this.file,
        `no such tensor; the file has ${describeNames(this.names)}`,
        name,
      );
    return info;
  }

  async raw(name: string, opts?: Pick<SafetensorsLoadOptions, 'dtype'>): Promise<StorageArray> {
    const { dtype } = parseLoadOptions(opts, this.file);
    const info = this.info(name);
    const bytes = await this.source.read(info.byteOffset, info.byteLength);
    return decode(info, bytes, dtype, this.file);
  }

  async tensor(name: string, opts?: SafetensorsLoadOptions): Promise<Tensor> {
    const { dtype, device } = parseLoadOptions(opts, this.file);
    const info = this.info(name);
    const raw = await this.raw(name, { dtype });
    return fromStorageArray(raw, info.shape, dtype ?? info.dtype, device);
  }

  tensors(names?: readonly string[], opts?: SafetensorsLoadOptions): Promise<Map<string, Tensor>> {
    return loadTensors(this, names, opts);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

/**
 * Every tensor of a safetensors file held in memory (e.g. `await (await fetch(url)).arrayBuffer()`),
 * created on `device`.
 */
export function readSafetensors(
  buffer: ArrayBuffer | Uint8Array,
  opts: SafetensorsLoadOptions & { file?: string } = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { file, ...rest } = opts;
  const { dtype, device } = parseLoadOptions(rest, file);
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const n = readHeaderLength(bytes, bytes.byteLength, file);
  const header = parseHeaderJson(bytes.subarray(8, 8 + n), 8 + n, bytes.byteLength - 8 - n, file);
  const tensors = new Map<string, Tensor>();
  try {
    for (const info of header.tensors.values()) {
      const raw = decode(
        info,
        bytes.subarray(info.byteOffset, info.byteOffset + info.byteLength),
        dtype,
        file,
      );
      tensors.set(info.name, fromStorageArray(raw, info.shape, dtype ?? info.dtype, device));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: header.metadata };
}
