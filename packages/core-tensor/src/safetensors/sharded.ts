/**
 * @file Sharded checkpoints in the Hugging Face layout: `model.safetensors.index.json` holds
 * `{ "metadata": {...}, "weight_map": { tensor name: shard file name } }` next to the shard files
 * (`model-00001-of-00003.safetensors`, ...). `ShardedSafetensors` presents them as one reader.
 * Isomorphic: the caller supplies how to open a shard (Node: a file; browser: a fetch).
 */
import { z } from 'zod';
import type { StorageArray } from '../dtype';
import { parseOptionsWith } from '../options';
import type { Tensor } from '../tensor';
import { SafetensorsError } from './errors';
import {
  describeNames,
  loadTensors,
  type SafetensorsFile,
  type SafetensorsLoadOptions,
  type SafetensorsReader,
} from './file';
import type { SafetensorsTensorInfo } from './header';

const IndexSchema = z.object({
  metadata: z.record(z.string(), z.unknown()).optional(),
  weight_map: z.record(z.string(), z.string().min(1)),
});
export type SafetensorsIndex = z.output<typeof IndexSchema>;

const OpenOptions = z.strictObject({
  /** The index file's name or path, for error messages. */
  file: z.string().optional(),
});

/** Validate a parsed `model.safetensors.index.json`. */
export function parseSafetensorsIndex(json: unknown, file?: string): SafetensorsIndex {
  const r = IndexSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SafetensorsError(
      file,
      `not a valid sharded-checkpoint index: '${issue.path.join('.')}': ${issue.message} (expected { weight_map: { name: shard file } })`,
    );
  }
  return r.data;
}

export class ShardedSafetensors implements SafetensorsReader {
  readonly names: readonly string[];

  private constructor(
    readonly index: SafetensorsIndex,
    /** Shard file name -> open file. */
    readonly shards: ReadonlyMap<string, SafetensorsFile>,
    readonly file?: string,
  ) {
    this.names = Object.freeze(Object.keys(index.weight_map));
  }

  /**
   * Open every shard the index names (headers only) and check that each mapped tensor is in its
   * shard. Tensors a shard holds but the index does not map are not exposed.
   */
  static async open(
    index: SafetensorsIndex,
    openShard: (shardFile: string) => Promise<SafetensorsFile>,
    options: z.input<typeof OpenOptions> = {},
  ): Promise<ShardedSafetensors> {
    const opts = parseOptionsWith(
      OpenOptions,
      options,
      (problem) => new SafetensorsError(undefined, `ShardedSafetensors.open: ${problem}`),
    );
    const shards = new Map<string, SafetensorsFile>();
    try {
      for (const shard of new Set(Object.values(index.weight_map))) shards.set(shard, await openShard(shard));
      for (const [name, shard] of Object.entries(index.weight_map)) {
        const f = shards.get(shard)!;
        if (!f.has(name)) {
          throw new SafetensorsError(
            opts.file,
            `the index maps it to '${shard}', which does not contain it (it has ${describeNames(f.names)})`,
            name,
          );
        }
      }
    } catch (e) {
      await Promise.all([...shards.values()].map((f) => f.close()));
      throw e;
    }
    return new ShardedSafetensors(index, shards, opts.file);
  }

  /** The index's "metadata" (e.g. total_size). */
  get metadata(): Record<string, unknown> {
    return this.index.metadata ?? {};
  }

  has(name: string): boolean {
    return Object.hasOwn(this.index.weight_map, name);
  }

  /** The shard file that holds `name`. */
  shardOf(name: string): string {
    if (!this.has(name))
      throw new SafetensorsError(
        this.file,
        `no such tensor; the checkpoint has ${describeNames(this.names)}`,
        name,
      );
    return this.index.weight_map[name];
  }

  private shard(name: string): SafetensorsFile {
    return this.shards.get(this.shardOf(name))!;
  }

  info(name: string): SafetensorsTensorInfo {
    return this.shard(name).info(name);
  }

  async raw(name: string, opts?: Pick<SafetensorsLoadOptions, 'dtype'>): Promise<StorageArray> {
    return this.shard(name).raw(name, opts);
  }

  async tensor(name: string, opts?: SafetensorsLoadOptions): Promise<Tensor> {
    return this.shard(name).tensor(name, opts);
  }

  tensors(names?: readonly string[], opts?: SafetensorsLoadOptions): Promise<Map<string, Tensor>> {
    return loadTensors(this, names, opts);
  }

  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((f) => f.close()));
  }
}
