/**
 * writeGGUF against the maintained parser (@huggingface/gguf): every value type comes back with its
 * value, tensor infos with their dims (ne[0] first), types and aligned offsets, and the tensor bytes
 * sit at tensorDataOffset + offset.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGUFValueType, gguf } from '@huggingface/gguf';
import { afterAll, describe, expect, it } from 'vitest';
import { writeGGUF } from './write-gguf';

const dir = mkdtempSync(join(tmpdir(), 'hasten-write-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeGGUF', () => {
  it('writes what @huggingface/gguf reads back', async () => {
    const a = Uint8Array.from({ length: 3 * 4 }, (_, i) => i + 1); // F32 [3] (12 bytes)
    const b = Uint8Array.from({ length: 2 * 34 }, (_, i) => (i * 7) & 0xff); // Q8_0 [2, 32]
    const bytes = writeGGUF(
      {
        'general.architecture': { type: 'string', value: 'llama' },
        'test.u8': { type: 'u8', value: 200 },
        'test.i32': { type: 'i32', value: -5 },
        'test.f32': { type: 'f32', value: 0.5 },
        'test.bool': { type: 'bool', value: true },
        'test.u64': { type: 'u64', value: 2 ** 40 },
        'test.strings': { type: 'array', itemType: 'string', value: ['a', 'é', ''] },
        'test.ints': { type: 'array', itemType: 'i32', value: [1, -2, 3] },
      },
      [
        { name: 'a', shape: [3], type: 'F32', data: a },
        { name: 'b', shape: [2, 32], type: 'Q8_0', data: b },
      ],
      { alignment: 64 },
    );
    const path = join(dir, 't.gguf');
    writeFileSync(path, bytes);
    const { metadata, tensorInfos, tensorDataOffset, typedMetadata } = await gguf(path, {
      allowLocalFile: true,
      typedMetadata: true,
    });
    const m = metadata as unknown as Record<string, unknown>;
    expect(m.version).toBe(3);
    expect(m.tensor_count).toBe(2n);
    expect(m['test.u8']).toBe(200);
    expect(m['test.i32']).toBe(-5);
    expect(m['test.f32']).toBe(0.5);
    expect(m['test.bool']).toBe(true);
    expect(m['test.u64']).toBe(2n ** 40n);
    expect(m['test.strings']).toEqual(['a', 'é', '']);
    expect(m['test.ints']).toEqual([1, -2, 3]);
    expect(m['general.alignment']).toBe(64);
    expect((typedMetadata as Record<string, { type: number }>)['test.f32'].type).toBe(GGUFValueType.FLOAT32);
    expect(tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)])).toEqual([
      ['a', [3], 0, 0],
      ['b', [32, 2], 8, 64],
    ]);
    expect(Number(tensorDataOffset) % 64).toBe(0);
    const file = readFileSync(path);
    const at = Number(tensorDataOffset);
    expect(new Uint8Array(file.subarray(at, at + 12))).toEqual(a);
    expect(new Uint8Array(file.subarray(at + 64, at + 64 + 68))).toEqual(b);
  });

  it('rejects wrong byte counts, partial blocks and bad alignments', () => {
    const one = (shape: number[], type: 'F32' | 'Q4_0', n: number) => () =>
      writeGGUF({}, [{ name: 'w', shape, type, data: new Uint8Array(n) }]);
    expect(one([4], 'F32', 15)).toThrow(/w \(F32 \[4\]\) has 15 bytes, expected 16/);
    expect(one([2, 48], 'Q4_0', 54)).toThrow(/48 elements is not whole 32-element blocks/);
    expect(() => writeGGUF({}, [], { alignment: 48 })).toThrow(/alignment.*power of two/);
  });
});
