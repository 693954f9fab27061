/**
 * @file Parsing and strict validation of a safetensors header
 * (https://github.com/huggingface/safetensors, README "Format"): 8 bytes little-endian u64 N, N bytes
 * of UTF-8 JSON (possibly padded with spaces), then the data buffer. The JSON maps each tensor name
 * to { dtype, shape, data_offsets: [begin, end] } relative to the data start, plus an optional
 * "__metadata__" string-to-string map.
 *
 * Like the reference implementation we reject: a header over 100 MB or past the end of the file,
 * invalid UTF-8 or JSON, duplicate names, unknown dtypes, offsets out of range, overlapping
 * tensors, byte counts that do not match shape x dtype, and bytes no tensor covers (the format
 * forbids holes so that a file cannot hide extra data).
 */
import { z } from 'zod';
import type { DType } from '../dtype';
import { parseOptionsWith } from '../options';
import { readableDtype, SUPPORTED_DTYPES_MESSAGE } from './dtypes';
import { SafetensorsError } from './errors';

export interface SafetensorsTensorInfo {
  name: string;
  /** The dtype the tensor loads as (F64 -> f32, I64 -> i32; every other code maps one to one). */
  dtype: DType;
  /** The dtype code stored in the file: 'F32', 'BF16', 'I64', ... */
  fileDtype: string;
  shape: number[];
  /** Absolute position of the tensor's bytes in the file, and their count. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** Absolute position of the data buffer: 8 + N. */
  dataOffset: number;
}

/** The reference implementation's limit; a larger N almost always means a corrupted file. */
export const MAX_HEADER_BYTES = 100_000_000;

/** N from the first 8 bytes, checked against the file size. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file?: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError(
      file,
      `file is ${fileSize} bytes, too short for the 8-byte header length (not a safetensors file?)`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      file,
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupted or not a safetensors file?)`,
    );
  }
  if (Number(n) > fileSize - 8) {
    throw new SafetensorsError(
      file,
      `header length ${n} runs past the end of the file (${fileSize} bytes): the file is truncated or corrupted`,
    );
  }
  return Number(n);
}

/** The top-level keys of a JSON object text in order (JSON.parse silently keeps the last duplicate). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(start, i + 1)));
      expectKey = false;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = depth === 1 && ch === '{';
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function parseEntry(
  name: string,
  raw: unknown,
  dataOffset: number,
  dataSize: number,
  file?: string,
): SafetensorsTensorInfo {
  const fail = (msg: string) => new SafetensorsError(file, msg, name);
  if (!isObject(raw))
    throw fail(
      `header entry must be an object with dtype, shape and data_offsets, got ${JSON.stringify(raw)}`,
    );
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') throw fail(`dtype must be a string, got ${JSON.stringify(dtype)}`);
  const info = readableDtype(dtype);
  if (!info) throw fail(`dtype ${dtype} is not supported; ${SUPPORTED_DTYPES_MESSAGE}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw fail(
      `data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataSize) {
    throw fail(
      `data_offsets [${begin}, ${end}] are outside the data buffer of ${dataSize} bytes (or begin > end)`,
    );
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const expected = count * info.bytes;
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw fail(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${expected}`,
    );
  }
  return {
    name,
    dtype: info.dtype,
    fileDtype: dtype,
    shape: shape.slice(),
    byteOffset: dataOffset + begin,
    byteLength: end - begin,
  };
}

/**
 * Validate the header JSON bytes. `dataOffset` = 8 + N; `dataSize` = file size - dataOffset.
 * Tensors come back sorted by their position in the data buffer.
 */
export function parseHeaderJson(
  headerBytes: Uint8Array,
  dataOffset: number,
  dataSize: number,
  file?: string,
): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      file,
      `header is not valid JSON (${(e as Error).message}); starts with ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  if (!isObject(json)) throw new SafetensorsError(file, 'header must be a JSON object');
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new SafetensorsError(file, 'appears twice in the header', k);
    seen.add(k);
  }

  const metadata: Record<string, string> = {};
  const meta = json.__metadata__;
  if (meta !== undefined) {
    if (!isObject(meta)) throw new SafetensorsError(file, '__metadata__ must be an object of string values');
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== 'string')
        throw new SafetensorsError(
          file,
          `__metadata__ value of '${k}' must be a string, got ${JSON.stringify(v)}`,
        );
      metadata[k] = v;
    }
  }

  const entries = Object.entries(json)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, raw]) => parseEntry(name, raw, dataOffset, dataSize, file))
    .sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  // Walk the data buffer in order: each tensor must start where the previous one ended.
  let pos = dataOffset;
  let prev: string | undefined;
  for (const e of entries) {
    if (e.byteOffset < pos) {
      throw new SafetensorsError(
        file,
        `bytes [${e.byteOffset - dataOffset}, ${e.byteOffset - dataOffset + e.byteLength}) overlap tensor '${prev}'`,
        e.name,
      );
    }
    if (e.byteOffset > pos) {
      throw new SafetensorsError(
        file,
        `data bytes [${pos - dataOffset}, ${e.byteOffset - dataOffset}) before tensor '${e.name}' belong to no tensor (holes are not allowed)`,
      );
    }
    pos = e.byteOffset + e.byteLength;
    prev = e.name;
  }
  if (pos !== dataOffset + dataSize) {
    throw new SafetensorsError(
      file,
      `the last ${dataOffset + dataSize - pos} bytes of the data buffer belong to no tensor (truncated header or trailing garbage)`,
    );
  }
  return { tensors: new Map(entries.map((e) => [e.name, e])), metadata, dataOffset };
}

const HeaderOptions = z.strictObject({
  /** The file's name, for error messages. */
  file: z.string().optional(),
  /** The whole file's size when `bytes` is only its beginning. */
  byteLength: z.number().int().nonnegative().optional(),
});

/**
 * Parse and validate the header of a safetensors file held in memory. `bytes` may be the whole
 * file or only its beginning (at least 8 + N bytes); then pass the whole file's `byteLength`.
 */
export function parseSafetensorsHeader(
  bytes: ArrayBuffer | Uint8Array,
  options: z.input<typeof HeaderOptions> = {},
): SafetensorsHeader {
  const opts = parseOptionsWith(
    HeaderOptions,
    options,
    (problem) => new SafetensorsError(undefined, `parseSafetensorsHeader: ${problem}`),
  );
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const fileSize = opts.byteLength ?? u8.byteLength;
  const n = readHeaderLength(u8, fileSize, opts.file);
  if (u8.byteLength < 8 + n) {
    throw new SafetensorsError(opts.file, `only ${u8.byteLength} bytes given but the header needs ${8 + n}`);
  }
  return parseHeaderJson(u8.subarray(8, 8 + n), 8 + n, fileSize - 8 - n, opts.file);
}
