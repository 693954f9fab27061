import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, tensor, writeSafetensors } from '../index';
import { loadSafetensors, openSafetensors, openShardedSafetensors, saveSafetensors } from '../node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hasten-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample = (): Record<string, Tensor> => ({
  w: tensor([1.5, -2, 3.25, 0], [2, 2]),
  h: tensor([0.1, 0.2, 65504], [3], { dtype: 'f16' }),
  b: tensor([0.5, -1], [2], { dtype: 'bf16' }),
  ids: tensor([1, 2, 3], [3], { dtype: 'i32' }),
  m: tensor([1, 0], [2], { dtype: 'bool' }),
  s: tensor(7, [], { dtype: 'i8' }),
});

describe('safetensors files in Node', () => {
  it('saves and loads every dtype; the streamed file equals the in-memory writer output', async () => {
    const path = join(dir, 'a.safetensors');
    const src = sample();
    await saveSafetensors(path, src, { format: 'pt' });
    expect(new Uint8Array(await readFile(path))).toEqual(await writeSafetensors(src, { format: 'pt' }));
    const { tensors, metadata } = await loadSafetensors(path);
    expect(metadata).toEqual({ format: 'pt' });
    for (const [name, t] of Object.entries(src)) {
      expect(tensors.get(name)!.dtype).toBe(t.dtype);
      expect(tensors.get(name)!.shape).toEqual(t.shape);
      expect(await tensors.get(name)!.array(), name).toEqual(await t.array());
    }
    expect(await readdir(dir)).toEqual(['a.safetensors']); // no temporary file left
  });

  it('opens lazily: tensors are read by byte range on demand, with the path in errors', async () => {
    const path = join(dir, 'lazy.safetensors');
    await saveSafetensors(path, sample());
    const f = await openSafetensors(path);
    try {
      expect([...f.names].sort()).toEqual(['b', 'h', 'ids', 'm', 's', 'w']);
      expect(await (await f.tensor('w', { dtype: 'bf16' })).array()).toEqual([1.5, -2, 3.25, 0]);
      await expect(f.tensor('nope')).rejects.toThrow(`safetensors '${path}': tensor 'nope': no such tensor`);
    } finally {
      await f.close();
    }
    await writeFile(join(dir, 'trunc.safetensors'), (await readFile(path)).subarray(0, 60));
    await expect(openSafetensors(join(dir, 'trunc.safetensors'))).rejects.toThrow(
      /trunc.safetensors': header length \d+ runs past the end/,
    );
    await rm(join(dir, 'trunc.safetensors'));
    await rm(path);
  });

  it('never leaves a half-written file: a failure mid-write keeps the old file and removes the temporary', async () => {
    const path = join(dir, 'atomic.safetensors');
    await saveSafetensors(path, { x: tensor([1, 2]) });
    const before = await readFile(path);
    const bad = tensor([3, 4, 5]);
    bad.raw = async () => {
      throw new Error('device lost');
    };
    await expect(saveSafetensors(path, { a: tensor([9]), z: bad })).rejects.toThrow('device lost');
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).filter((n) => n.includes('atomic'))).toEqual(['atomic.safetensors']);
    await rm(path);
  });

  describe('sharded checkpoints (model.safetensors.index.json)', () => {
    let ckpt: string;
    beforeAll(async () => {
      ckpt = join(dir, 'ckpt');
      await mkdir(ckpt);
      await saveSafetensors(join(ckpt, 'model-00001-of-00002.safetensors'), {
        'embed.weight': tensor([1, 2, 3, 4], [2, 2]),
        'layers.0.w': tensor([5, 6]),
      });
      await saveSafetensors(join(ckpt, 'model-00002-of-00002.safetensors'), {
        'layers.1.w': tensor([7, 8]),
        'head.weight': tensor([9], [1], { dtype: 'f16' }),
      });
      const weight_map = {
        'embed.weight': 'model-00001-of-00002.safetensors',
        'layers.0.w': 'model-00001-of-00002.safetensors',
        'layers.1.w': 'model-00002-of-00002.safetensors',
        'head.weight': 'model-00002-of-00002.safetensors',
      };
      await writeFile(
        join(ckpt, 'model.safetensors.index.json'),
        JSON.stringify({ metadata: { total_size: 34 }, weight_map }),
      );
    });

    it('presents one name -> tensor view across shards', async () => {
      const r = await openShardedSafetensors(ckpt);
      try {
        expect(r.names).toEqual(['embed.weight', 'layers.0.w', 'layers.1.w', 'head.weight']);
        expect(await (await r.tensor('layers.1.w')).array()).toEqual([7, 8]);
        expect(r.info('head.weight')).toMatchObject({ dtype: 'f16', shape: [1] });
        const all = await r.tensors(undefined, { dtype: 'f32' });
        expect(await all.get('head.weight')!.array()).toEqual([9]);
        expect(all.get('head.weight')!.dtype).toBe('f32');
        expect(r.has('embed.weight') && !r.has('nope')).toBe(true);
        await expect(r.tensor('nope')).rejects.toThrow(
          /tensor 'nope': no such tensor; the checkpoint has 'embed.weight'/,
        );
      } finally {
        await r.close();
      }
      // The index path itself works too, and a folder with one model.safetensors falls back to it.
      const viaIndex = await openShardedSafetensors(join(ckpt, 'model.safetensors.index.json'));
      expect(viaIndex.names.length).toBe(4);
      await viaIndex.close();
      const single = join(dir, 'single');
      await mkdir(single);
      await saveSafetensors(join(single, 'model.safetensors'), { a: tensor([1]) });
      const one = await openShardedSafetensors(single);
      expect(one.names).toEqual(['a']);
      await one.close();
    });

    it('rejects a tensor missing from its shard, a shard outside the folder, a bad index, an empty folder', async () => {
      const bad = join(dir, 'bad-ckpt');
      await mkdir(bad);
      await saveSafetensors(join(bad, 's1.safetensors'), { a: tensor([1]) });
      const index = (weight_map: object) =>
        writeFile(join(bad, 'model.safetensors.index.json'), JSON.stringify({ weight_map }));
      await index({ a: 's1.safetensors', b: 's1.safetensors' });
      await expect(openShardedSafetensors(bad)).rejects.toThrow(
        /tensor 'b': the index maps it to 's1.safetensors', which does not contain it \(it has 'a'\)/,
      );
      await index({ a: '../ckpt/model-00001-of-00002.safetensors' });
      await expect(openShardedSafetensors(bad)).rejects.toThrow(
        /shard file '..\/ckpt\/model-00001-of-00002.safetensors' is outside the index's folder/,
      );
      await writeFile(join(bad, 'model.safetensors.index.json'), JSON.stringify({ weights: {} }));
      await expect(openShardedSafetensors(bad)).rejects.toThrow(
        /not a valid sharded-checkpoint index: 'weight_map'/,
      );
      await writeFile(join(bad, 'model.safetensors.index.json'), '{ nope');
      await expect(openShardedSafetensors(bad)).rejects.toThrow(/cannot read the index/);
      const empty = join(dir, 'empty');
      await mkdir(empty);
      await expect(openShardedSafetensors(empty)).rejects.toThrow(
        /folder has neither model.safetensors.index.json nor model.safetensors/,
      );
    });
  });
});

// Files written by the Python fixture writer (tools/fixtures/common.py, save_safetensors): an
// independent writer. Checked against config.json and the weight initialisation of
// tools/fixtures/families.py (norm weights 1 + 0.05 N(0, 1), every other weight 0.05 N(0, 1)).
const families = fileURLToPath(new URL('../../../../fixtures/families/', import.meta.url));

async function checkFamily(name: string): Promise<void> {
  const folder = join(families, name);
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
  const r = await openShardedSafetensors(folder);
  try {
    const embed = r.info('model.embed_tokens.weight');
    expect(embed.shape).toEqual([config.vocab_size, config.hidden_size]);
    const layers = new Set(r.names.filter((n) => n.startsWith('model.layers.')).map((n) => n.split('.')[2]));
    expect(layers.size).toBe(config.num_hidden_layers);
    for (const n of r.names) {
      const v = (await (await r.tensor(n, { dtype: 'f32' })).data()) as Float32Array;
      let mean = 0;
      for (const x of v) mean += x;
      mean /= v.length;
      let sd = 0;
      for (const x of v) sd += (x - mean) ** 2;
      sd = Math.sqrt(sd / v.length);
      if (n.endsWith('norm.weight')) expect(Math.abs(mean - 1), n).toBeLessThan(0.05);
      else if (v.length >= 1000) {
        expect(Math.abs(mean), n).toBeLessThan(0.01);
        expect(Math.abs(sd / 0.05 - 1), n).toBeLessThan(0.1);
      }
    }
  } finally {
    await r.close();
  }
}

describe('fixture files written by the Python fixture writer', () => {
  const why = '(committed; `npm run fixtures` rebuilds them)';
  it(`reads fixtures/families/llama-mha (F32) and its reference ids ${why}`, async () => {
    await checkFamily('llama-mha');
    const { tensors } = await loadSafetensors(join(families, 'llama-mha/reference.safetensors'));
    const ids = tensors.get('input_ids')!;
    expect(ids.dtype).toBe('i32');
    const v = await ids.array();
    expect(v[0]).toBe(256); // BOS
    expect(v.every((x) => x >= 0 && x < 260)).toBe(true);
  });
  it(`reads fixtures/families/llama-gqa2 (F16) ${why}`, () => checkFamily('llama-gqa2'));
  it(`reads fixtures/families/mistral-gqa4 (BF16) ${why}`, () => checkFamily('mistral-gqa4'));
  it(`reads the sharded fixtures/families/llama3-rope-scaling ${why}`, async () => {
    await checkFamily('llama3-rope-scaling');
    const index = JSON.parse(
      await readFile(join(families, 'llama3-rope-scaling/model.safetensors.index.json'), 'utf8'),
    );
    const r = await openShardedSafetensors(join(families, 'llama3-rope-scaling'));
    const bytes = r.names.reduce((a, n) => a + r.info(n).byteLength, 0);
    await r.close();
    expect(bytes).toBe(index.metadata.total_size);
  });
});
