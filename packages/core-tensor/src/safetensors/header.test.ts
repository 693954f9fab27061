import { describe, expect, it } from 'vitest';
import {
  bytesSource,
  parseSafetensorsHeader,
  readSafetensors,
  SafetensorsFile,
  ShardedSafetensors,
} from '../index';
import { buildSafetensors as build } from './testing/build-file';

const f32Bytes = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('safetensors header', () => {
  it('parses a hand-built file with space padding, metadata and data in any key order', async () => {
    const data = new Uint8Array([...f32Bytes(1, 2, 3), 7, 8]);
    const file = build(
      {
        b: { dtype: 'U8', shape: [2], data_offsets: [12, 14] },
        __metadata__: { format: 'pt', k: 'v' },
        a: { dtype: 'F32', shape: [3, 1], data_offsets: [0, 12] },
      },
      data,
      13,
    );
    const h = parseSafetensorsHeader(file, { file: 'x.safetensors' });
    expect([...h.tensors.keys()]).toEqual(['a', 'b']); // data order
    expect(h.metadata).toEqual({ format: 'pt', k: 'v' });
    expect(h.tensors.get('b')).toMatchObject({
      dtype: 'u8',
      fileDtype: 'U8',
      shape: [2],
      byteLength: 2,
      byteOffset: h.dataOffset + 12,
    });
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata.k).toBe('v');
    expect(await tensors.get('a')!.array()).toEqual([1, 2, 3]);
    expect(tensors.get('a')!.shape).toEqual([3, 1]);
    expect(await tensors.get('b')!.array()).toEqual([7, 8]);
    // The lazy reader gives the same, and parses from only the first 8 + N bytes plus the size.
    const lazy = await SafetensorsFile.open(bytesSource(file.buffer as ArrayBuffer));
    expect(await (await lazy.tensor('b')).array()).toEqual([7, 8]);
    expect(
      parseSafetensorsHeader(file.subarray(0, h.dataOffset), { byteLength: file.length }).tensors.size,
    ).toBe(2);
    expect(() => parseSafetensorsHeader(file, { byteLength: -1 })).toThrow(
      /parseSafetensorsHeader: option 'byteLength' is invalid/,
    );
    expect(() => parseSafetensorsHeader(file, { name: 'x' } as never)).toThrow(
      'parseSafetensorsHeader: options is invalid: Unrecognized key: "name"; allowed: file, byteLength',
    );
    await expect(SafetensorsFile.open(bytesSource(file), { name: 'x' } as never)).rejects.toThrow(
      /SafetensorsFile.open: options is invalid: Unrecognized key: "name"; allowed: file/,
    );
    await expect(lazy.tensors([], { dtyp: 'f32' } as never)).rejects.toThrow(/Unrecognized key: "dtyp"/);
    const index = { weight_map: { a: 'one.safetensors' } };
    await expect(ShardedSafetensors.open(index, async () => lazy, { name: 'x' } as never)).rejects.toThrow(
      /ShardedSafetensors.open: options is invalid: Unrecognized key: "name"; allowed: file/,
    );
  });

  it('accepts an empty file (no tensors) and zero-size tensors sharing an offset', () => {
    expect(readSafetensors(build({})).tensors.size).toBe(0);
    const file = build(
      {
        e: { dtype: 'F32', shape: [0, 4], data_offsets: [0, 0] },
        s: { dtype: 'I8', shape: [], data_offsets: [0, 1] },
      },
      new Uint8Array([0xff]),
    );
    const { tensors } = readSafetensors(file);
    expect(tensors.get('e')!.shape).toEqual([0, 4]);
    expect(tensors.get('s')!.shape).toEqual([]);
  });

  it('reads F64 as f32 and I64 as i32, range-checked', async () => {
    const f64 = new Uint8Array(new Float64Array([0.1, -2.5, 1e300]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n, 5n]).buffer);
    const file = build(
      {
        d: { dtype: 'F64', shape: [3], data_offsets: [0, 24] },
        l: { dtype: 'I64', shape: [3], data_offsets: [24, 48] },
      },
      new Uint8Array([...f64, ...i64]),
    );
    const { tensors } = readSafetensors(file);
    expect(tensors.get('d')!.dtype).toBe('f32');
    expect(await tensors.get('d')!.array()).toEqual([Math.fround(0.1), -2.5, Number.POSITIVE_INFINITY]);
    expect(tensors.get('l')!.dtype).toBe('i32');
    expect(await tensors.get('l')!.array()).toEqual([-(2 ** 31), 2 ** 31 - 1, 5]);
    const big = new Uint8Array(new BigInt64Array([2n ** 31n]).buffer);
    expect(() =>
      readSafetensors(build({ l: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big), {
        file: 'ids.safetensors',
      }),
    ).toThrow(
      "safetensors 'ids.safetensors': tensor 'l': I64 value 2147483648 at index 0 does not fit in i32",
    );
  });

  it('decodes tensors at unaligned positions (header not padded to a multiple of 4)', async () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    for (let pad = 0; pad < 4; pad++) {
      const file = build(header, f32Bytes(1.5, -3), pad);
      expect(await readSafetensors(file).tensors.get('a')!.array()).toEqual([1.5, -3]);
      const lazy = await SafetensorsFile.open(bytesSource(file));
      expect(await lazy.raw('a')).toEqual(new Float32Array([1.5, -3]));
    }
    const offsets = [0, 1, 2, 3].map(
      (pad) => parseSafetensorsHeader(build(header, f32Bytes(1.5, -3), pad)).dataOffset % 4,
    );
    expect(new Set(offsets).size).toBe(4); // every alignment was exercised
  });

  describe('rejects corrupted or invalid files with a message naming the file, the tensor and the problem', () => {
    const F = { file: 'bad.safetensors' };
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data = f32Bytes(1, 2);
    const cases: [string, () => unknown, RegExp][] = [
      [
        'too short',
        () => readSafetensors(new Uint8Array(5), F),
        /'bad.safetensors': file is 5 bytes, too short/,
      ],
      [
        'header length past the end',
        () => readSafetensors(build(ok, data, 0, 10_000n), F),
        /header length 10000 runs past the end of the file/,
      ],
      [
        'absurd header length',
        () => readSafetensors(build(ok, data, 0, 2n ** 62n), F),
        /exceeds the 100000000-byte limit/,
      ],
      [
        'invalid JSON',
        () => readSafetensors(build('{"a": {', data), F),
        /'bad.safetensors': header is not valid JSON/,
      ],
      [
        'invalid UTF-8',
        () => parseSafetensorsHeader(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xc3, 0x28]), F),
        /not valid UTF-8/,
      ],
      ['not an object', () => readSafetensors(build('[1, 2]'), F), /header must be a JSON object/],
      [
        'duplicate names',
        () =>
          readSafetensors(
            build(
              '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
              new Uint8Array(2),
            ),
            F,
          ),
        /tensor 'a': appears twice in the header/,
      ],
      [
        'unknown dtype',
        () => readSafetensors(build({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data), F),
        /tensor 'a': dtype F8_E4M3 is not supported; supported: F32, F16, BF16, I32, I8, U8, BOOL, F64/,
      ],
      [
        'bad shape',
        () => readSafetensors(build({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data), F),
        /tensor 'a': shape must be an array of non-negative integers/,
      ],
      [
        'missing offsets',
        () => readSafetensors(build({ a: { dtype: 'F32', shape: [2] } }, data), F),
        /tensor 'a': data_offsets must be \[begin, end\]/,
      ],
      [
        'offsets out of range',
        () => readSafetensors(build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), F),
        /tensor 'a': data_offsets \[0, 16\] are outside the data buffer of 8 bytes/,
      ],
      [
        'begin > end',
        () => readSafetensors(build({ a: { dtype: 'U8', shape: [0], data_offsets: [8, 4] } }, data), F),
        /begin > end/,
      ],
      [
        'size mismatch',
        () => readSafetensors(build({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, data), F),
        /tensor 'a': data_offsets \[0, 8\] hold 8 bytes but shape \[2\] of F16 needs 4/,
      ],
      [
        'overlap',
        () =>
          readSafetensors(
            build(
              {
                a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
                b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
              },
              data,
            ),
            F,
          ),
        /tensor 'b': bytes \[4, 8\) overlap tensor 'a'/,
      ],
      [
        'hole',
        () => readSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), F),
        /data bytes \[0, 4\) before tensor 'a' belong to no tensor/,
      ],
      [
        'trailing bytes',
        () => readSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data), F),
        /the last 4 bytes of the data buffer belong to no tensor/,
      ],
      [
        'bad metadata',
        () => readSafetensors(build({ __metadata__: { n: 3 } }), F),
        /__metadata__ value of 'n' must be a string/,
      ],
      [
        'bad BOOL byte',
        () =>
          readSafetensors(
            build({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 2])),
            F,
          ),
        /tensor 'm': BOOL byte at index 1 is 2/,
      ],
      [
        'bad option',
        () => readSafetensors(build(ok, data), { dtype: 'i32' as never }),
        /option 'dtype' is invalid/,
      ],
      [
        'unknown option',
        () => readSafetensors(build(ok, data), { dtyp: 'f32' } as never),
        /options is invalid: Unrecognized key: "dtyp"; allowed: dtype, device/,
      ],
    ];
    it.each(cases)('%s', (_, fn, message) => {
      expect(fn).toThrow(message);
    });

    it('an unknown tensor name lists what the file has', async () => {
      const f = await SafetensorsFile.open(bytesSource(build(ok, data)), F);
      await expect(f.tensor('b')).rejects.toThrow(
        "safetensors 'bad.safetensors': tensor 'b': no such tensor; the file has 'a'",
      );
    });
  });
});
