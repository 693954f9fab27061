import { describe, expect, it } from 'vitest';
import {
  bytesSource,
  f32ToBf16Bits,
  f32ToF16Bits,
  fromStorageArray,
  readSafetensors,
  rng,
  SafetensorsFile,
  type Tensor,
  tensor,
  writeSafetensors,
} from '../index';

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Index of the first differing byte, -1 when equal (fast, unlike a deep equality on 128 KB). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const allBits16 = () => Uint16Array.from({ length: 65536 }, (_, i) => i);

/** One tensor of every dtype with awkward values; raw storage arrays are compared bit for bit. */
function everyDtype(): Record<string, Tensor> {
  const g = rng(77);
  const f32 = new Float32Array([
    0,
    -0,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1e-45,
    3.4e38,
    ...g.uniformF32(4),
  ]);
  return {
    f32: fromStorageArray(f32, [3, 4], 'f32'),
    f16: fromStorageArray(allBits16(), [256, 256], 'f16'), // every bit pattern: NaN payloads, -0, subnormals
    bf16: fromStorageArray(allBits16(), [65536], 'bf16'),
    i32: fromStorageArray(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1, ...g.words(4)]), [2, 2, 2], 'i32'),
    i8: fromStorageArray(new Int8Array([-128, 127, 0, -1, 5]), [5], 'i8'),
    u8: fromStorageArray(new Uint8Array([0, 255, 7]), [3, 1], 'u8'),
    bool: fromStorageArray(new Uint8Array([1, 0, 0, 1]), [4], 'bool'),
    scalar: tensor(3.25),
    empty: fromStorageArray(new Float32Array(0), [0], 'f32'),
    empty2: fromStorageArray(new Uint16Array(0), [3, 0, 2], 'bf16'),
  };
}

describe('writeSafetensors / readSafetensors round trip', () => {
  it('keeps every dtype bit for bit, including 0-d and empty tensors', async () => {
    const src = everyDtype();
    const bytes = await writeSafetensors(src, { format: 'pt', note: 'ünïcode ✓' });
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(src).sort());
    for (const [name, t] of Object.entries(src)) {
      const back = tensors.get(name)!;
      expect(back.dtype, name).toBe(t.dtype);
      expect(back.shape, name).toEqual(t.shape);
      const a = await t.raw();
      const b = await back.raw();
      expect(firstDifference(bytesOf(a), bytesOf(b)), name).toBe(-1);
    }
  });

  it('writes the documented layout: header padded to 8, largest elements first then by name, data aligned', async () => {
    const bytes = await writeSafetensors(everyDtype());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.endsWith('}') || /} +$/.test(text)).toBe(true);
    const header = JSON.parse(text) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    >;
    expect(header.__metadata__).toBeUndefined(); // no metadata given: none written
    const order = Object.entries(header).sort(
      (a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1],
    );
    expect(order.map(([k]) => k)).toEqual([
      'empty',
      'f32',
      'i32',
      'scalar',
      'bf16',
      'empty2',
      'f16',
      'bool',
      'i8',
      'u8',
    ]);
    const size: Record<string, number> = { F32: 4, I32: 4, F16: 2, BF16: 2, I8: 1, U8: 1, BOOL: 1 };
    for (const [, e] of order) expect((8 + n + e.data_offsets[0]) % size[e.dtype]).toBe(0);
    expect(header.scalar).toEqual({
      dtype: 'F32',
      shape: [],
      data_offsets: [header.scalar.data_offsets[0], header.scalar.data_offsets[0] + 4],
    });
    // The f32 data sits where the header says, little-endian.
    const [b0] = header.f32.data_offsets;
    expect(new DataView(bytes.buffer).getFloat32(8 + n + b0 + 8, true)).toBe(1.5);
  });

  it('writes views (transposed, sliced with a step) in logical row-major order', async () => {
    const base = tensor([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    const view = base.transpose().slice(0, 0, 4, 2); // [[1, 5, 9], [3, 7, 11]]
    const { tensors } = readSafetensors(await writeSafetensors(new Map([['v', view]])));
    expect(tensors.get('v')!.shape).toEqual([2, 3]);
    expect(await tensors.get('v')!.array()).toEqual([1, 5, 9, 3, 7, 11]);
  });

  it('casts floats on load (f16 -> f32 exactly, f32 -> bf16 / f16 rounded) and honours the device', async () => {
    const vals = [0.1, -2.7, 65504, 1e-7, 3.3e38];
    const bytes = await writeSafetensors({ h: tensor(vals, [5], { dtype: 'f16' }), s: tensor(vals) });
    const f = await SafetensorsFile.open(bytesSource(bytes));
    const h32 = await f.tensor('h', { dtype: 'f32', device: 'reference' });
    expect(h32.dtype).toBe('f32');
    expect(h32.device).toBe('reference');
    expect(await h32.array()).toEqual(await (await f.tensor('h')).array());
    const sb = await f.raw('s', { dtype: 'bf16' });
    expect(Array.from(sb)).toEqual(vals.map((v) => f32ToBf16Bits(v)));
    const sh = await f.raw('s', { dtype: 'f16' });
    expect(Array.from(sh)).toEqual(vals.map((v) => f32ToF16Bits(Math.fround(v))));
    const all = readSafetensors(bytes, { dtype: 'f32' }).tensors;
    expect([...all.values()].every((t) => t.dtype === 'f32')).toBe(true);
  });

  it('the lazy reader loads all or some tensors, and describes them without reading data', async () => {
    const bytes = await writeSafetensors(everyDtype());
    let reads = 0;
    const src = bytesSource(bytes);
    const f = await SafetensorsFile.open({
      byteLength: src.byteLength,
      read: (o, l) => {
        reads++;
        return src.read(o, l);
      },
    });
    expect(reads).toBe(2); // length prefix and header
    expect(f.info('f16')).toMatchObject({
      dtype: 'f16',
      fileDtype: 'F16',
      shape: [256, 256],
      byteLength: 131072,
    });
    const some = await f.tensors(['i8', 'scalar']);
    expect(reads).toBe(4);
    expect(await some.get('scalar')!.item()).toBe(3.25);
    expect((await f.tensors()).size).toBe(10);
  });

  it('rejects bad input naming the tensor', async () => {
    const t = tensor([1, 2]);
    await expect(writeSafetensors({ __metadata__: t })).rejects.toThrow(/'__metadata__' is reserved/);
    await expect(writeSafetensors({ x: [1, 2] as never })).rejects.toThrow(
      /tensor 'x': expected a Tensor, got object/,
    );
    const d = tensor([1]);
    d.dispose();
    await expect(writeSafetensors({ d })).rejects.toThrow(/tensor 'd': the tensor was disposed/);
    await expect(writeSafetensors({ t }, { n: 1 as never })).rejects.toThrow(
      /metadata must map strings to strings/,
    );
  });
});
