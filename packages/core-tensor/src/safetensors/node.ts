/**
 * @file safetensors files in Node (https://github.com/huggingface/safetensors).
 *
 * "Memory-mapped" loading is served by positional reads: Node has no mmap without a native addon,
 * so `openSafetensors` keeps a file handle, reads the header once, and reads each tensor's byte
 * range (fs FileHandle.read at an offset) when it is asked for. The whole file is never loaded,
 * and only the tensors used are read.
 *
 * `saveSafetensors` streams the tensors into a temporary file in the target's folder, syncs it,
 * and renames it over the target, so a reader never sees a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { registerCpuBackends } from '../backends/register-cpu';
import type { Tensor } from '../tensor';
import { SafetensorsError } from './errors';
import {
  type ByteSource,
  SafetensorsFile,
  type SafetensorsLoadOptions,
  type SafetensorsReader,
} from './file';
import { parseSafetensorsIndex, ShardedSafetensors } from './sharded';
import { planSafetensors, type TensorDict, tensorBytes } from './write';

// Loading creates tensors, so make sure the CPU backends exist even if only this subpath is imported.
registerCpuBackends();

/** Largest single read or write call (fs calls take an int32 length). */
const CHUNK = 1 << 30;

/** A ByteSource over an open file handle: positional reads, nothing cached. */
export async function fileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  return {
    byteLength: size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, Math.min(length - done, CHUNK), offset + done);
        if (bytesRead === 0)
          throw new SafetensorsError(
            path,
            `unexpected end of file at byte ${offset + done} (was the file changed while open?)`,
          );
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** Open a file lazily: the header now, each tensor when asked for. Call `close()` when done. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const source = await fileSource(path);
  try {
    return await SafetensorsFile.open(source, { file: path });
  } catch (e) {
    await source.close?.();
    throw e;
  }
}

/** Every tensor of a file (read tensor by tensor, not as one buffer). */
export async function loadSafetensors(
  path: string,
  opts?: SafetensorsLoadOptions,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const f = await openSafetensors(path);
  try {
    return { tensors: await f.tensors(f.names, opts), metadata: f.metadata };
  } finally {
    await f.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(
      bytes,
      done,
      Math.min(bytes.byteLength - done, CHUNK),
      position + done,
    );
    done += bytesWritten;
  }
}

/** Write `tensors` to `path` atomically (temporary file in the same folder, then rename). */
export async function saveSafetensors(
  path: string,
  tensors: TensorDict,
  metadata?: Record<string, string>,
): Promise<void> {
  const plan = planSafetensors(tensors, metadata, path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await writeAll(handle, plan.header, 0);
    let pos = plan.header.byteLength;
    for (const e of plan.entries) {
      await writeAll(handle, await tensorBytes(e.tensor), pos);
      pos += e.byteLength;
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';

/**
 * One name -> tensor view of a Hugging Face checkpoint. `path` is a folder (with
 * `model.safetensors.index.json`, or else a single `model.safetensors`), an `*.index.json` file,
 * or a `.safetensors` file. Shard names in the index must stay inside the index's folder.
 */
export async function openShardedSafetensors(path: string): Promise<SafetensorsReader> {
  let indexPath = path;
  if ((await stat(path)).isDirectory()) {
    indexPath = join(path, INDEX_FILE);
    const hasIndex = await stat(indexPath).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!hasIndex) {
      const single = join(path, SINGLE_FILE);
      const hasSingle = await stat(single).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!hasSingle) throw new SafetensorsError(path, `folder has neither ${INDEX_FILE} nor ${SINGLE_FILE}`);
      return openSafetensors(single);
    }
  } else if (!path.endsWith('.json')) {
    return openSafetensors(path);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    throw new SafetensorsError(indexPath, `cannot read the index: ${(e as Error).message}`);
  }
  const index = parseSafetensorsIndex(json, indexPath);
  const dir = dirname(indexPath);
  return ShardedSafetensors.open(
    index,
    (shard) => {
      const full = resolve(dir, shard);
      const rel = relative(dir, full);
      if (rel.split(sep)[0] === '..' || isAbsolute(rel)) {
        throw new SafetensorsError(indexPath, `shard file '${shard}' is outside the index's folder`);
      }
      return openSafetensors(full);
    },
    { file: indexPath },
  );
}
