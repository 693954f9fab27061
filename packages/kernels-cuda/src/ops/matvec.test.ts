import { describe, expect, it } from 'vitest';
import { matvecLaunch } from './matvec';
import { fake } from './testing';

describe('cuda matvec argument checks', () => {
  it('builds an int4 launch: nibbles [N, K/2], f16 scales [N, K/group]', () => {
    const l = matvecLaunch({
      x: fake('f16', [2, 256]),
      weight: fake('u8', [64, 128]),
      format: 'int4',
      scales: fake('f16', [64, 2]),
      group: 128,
      out: fake('f16', [2, 64]),
    });
    expect(l.params).toEqual([1, 4, 2, 64, 256, 128]);
    expect(l.version).toBe(2);
  });

  it('rejects int4 without a group, a K that is not a multiple of it, and wrong scale shapes', () => {
    const base = {
      x: fake('f32', [1, 96]),
      weight: fake('u8', [8, 48]),
      format: 'int4' as const,
      out: fake('f32', [1, 8]),
    };
    expect(() => matvecLaunch({ ...base, scales: fake('f16', [8, 3]) })).toThrow(
      /int4 needs 'group' \(one of 32, 64, 128\)/,
    );
    expect(() => matvecLaunch({ ...base, scales: fake('f16', [8, 1]), group: 64 })).toThrow(
      /K=96 must be a multiple of the int4 group 64/,
    );
    expect(() => matvecLaunch({ ...base, scales: fake('f16', [8, 2]), group: 32 })).toThrow(
      /scales must be \[8, 3\], got \[8, 2\]/,
    );
    expect(() => matvecLaunch({ ...base, scales: fake('f16', [8, 3]), group: 48 as never })).toThrow(
      /option 'group' is invalid/,
    );
  });

  it('rejects int8 without scales or with f32 scales, and the wrong weight dtype', () => {
    const x = fake('f32', [1, 16]);
    const out = fake('f32', [1, 4]);
    expect(() => matvecLaunch({ x, weight: fake('i8', [4, 16]), format: 'int8', out })).toThrow(
      /int8 weights need 'scales' \(f16\)/,
    );
    expect(() =>
      matvecLaunch({ x, weight: fake('i8', [4, 16]), format: 'int8', scales: fake('f32', [4]), out }),
    ).toThrow(/scales must be f16, got f32/);
    expect(() =>
      matvecLaunch({ x, weight: fake('f16', [4, 16]), format: 'int8', scales: fake('f16', [4]), out }),
    ).toThrow(/weight must be i8, got f16/);
  });

  it('rejects scales on float weights and an unknown format', () => {
    const x = fake('f32', [1, 16]);
    const out = fake('f32', [1, 4]);
    expect(() =>
      matvecLaunch({ x, weight: fake('f16', [4, 16]), format: 'f16', scales: fake('f16', [4]), out }),
    ).toThrow(/'scales' applies to int8 and int4 weights only, not f16/);
    expect(() => matvecLaunch({ x, weight: fake('f16', [4, 16]), format: 'q4_0' as never, out })).toThrow(
      /option 'format' is invalid: .*"f32"\|"f16"\|"bf16"\|"int8"\|"int4"/,
    );
  });
});
