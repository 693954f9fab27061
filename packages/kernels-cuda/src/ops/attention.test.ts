import { describe, expect, it } from 'vitest';
import { attentionLaunch } from './attention';
import { decodeAttentionLaunch, splitKPartialsLength } from './decode-attention';
import { pagedAttentionLaunch } from './paged-attention';
import { sampleLaunch } from './sample';
import { fake } from './testing';
import { topkLaunch } from './topk';

describe('cuda attention argument checks', () => {
  it('GQA params and a broadcast tree mask [S, T] become strides [0, 0, T, 1]', () => {
    const l = attentionLaunch({
      q: fake('f16', [1, 8, 4, 64]),
      k: fake('f16', [1, 2, 10, 64]),
      v: fake('f16', [1, 2, 10, 32]),
      out: fake('f16', [1, 8, 4, 32]),
      mask: fake('u8', [4, 10]),
      causal: true,
    });
    expect(l.params).toEqual([1, 1, 8, 2, 4, 10, 64, 32, 1 / 8, 1, 0, 0, 10, 1]);
  });

  it('rejects query heads that are not a multiple of the kv heads', () => {
    expect(() =>
      attentionLaunch({
        q: fake('f32', [1, 6, 2, 16]),
        k: fake('f32', [1, 4, 5, 16]),
        v: fake('f32', [1, 4, 5, 16]),
        out: fake('f32', [1, 6, 2, 16]),
      }),
    ).toThrow(/query heads \(6\) must be a multiple of key\/value heads \(4\)/);
  });

  it('rejects causal with more queries than keys, a non-broadcastable mask, a bool-less mask and D > 256', () => {
    const q = fake('f32', [1, 2, 6, 16]);
    const kv = {
      k: fake('f32', [1, 2, 5, 16]),
      v: fake('f32', [1, 2, 5, 16]),
      out: fake('f32', [1, 2, 6, 16]),
    };
    expect(() => attentionLaunch({ q, ...kv, causal: true })).toThrow(
      /causal attention needs at least as many keys as queries \(S=6 <= T=5\)/,
    );
    expect(() => attentionLaunch({ q, ...kv, mask: fake('u8', [3, 5]) })).toThrow(
      /mask \[3, 5\] must broadcast to \[B, Hq, S, T\] = \[1, 2, 6, 5\]/,
    );
    expect(() => attentionLaunch({ q, ...kv, mask: fake('f32', [6, 5]) })).toThrow(
      /mask must be u8, got f32/,
    );
    expect(() =>
      attentionLaunch({
        q: fake('f32', [1, 1, 1, 320]),
        k: fake('f32', [1, 1, 2, 320]),
        v: fake('f32', [1, 1, 2, 320]),
        out: fake('f32', [1, 1, 1, 320]),
      }),
    ).toThrow(/head dimensions up to 256 are supported, got D=320/);
  });

  it('decode: partials must hold B*Hq*S*splits*(Dv+2) f32', () => {
    const args = {
      q: fake('f32', [1, 4, 1, 16]),
      k: fake('f32', [1, 4, 100, 16]),
      v: fake('f32', [1, 4, 100, 16]),
      out: fake('f32', [1, 4, 1, 16]),
      splits: 4,
    };
    expect(splitKPartialsLength(4, 4, 16)).toBe(288);
    expect(decodeAttentionLaunch({ ...args, partials: fake('f32', [288]) }).params.at(-1)).toBe(4);
    expect(() => decodeAttentionLaunch({ ...args, partials: fake('f32', [287]) })).toThrow(
      /partials must hold at least 288 f32/,
    );
  });
});

describe('cuda pagedAttention argument checks', () => {
  const q = fake('f32', [2, 4, 1, 8]);
  const pool = () => ({ keys: fake('f32', [6, 2, 4, 8]), values: fake('f32', [6, 2, 4, 8]) });
  const common = () => ({
    q,
    ...pool(),
    blockTable: fake('i32', [2, 3]),
    out: fake('f32', [2, 4, 1, 8]),
    version: 1 as const,
  });

  it('accepts a table whose used entries lie in the pool (unused entries are not read)', () => {
    const host = Int32Array.from([0, 5, -1, 3, 2, 99]);
    const l = pagedAttentionLaunch({ ...common(), blockTableHost: host, length: 8 });
    expect(l.params.slice(-3)).toEqual([3, 4, 1]);
  });

  it('rejects a block-table entry outside the pool, naming it', () => {
    const host = Int32Array.from([0, 6, 1, 3, 2, 1]);
    expect(() => pagedAttentionLaunch({ ...common(), blockTableHost: host, length: 8 })).toThrow(
      /blockTable\[0, 1\] = 6 is not a block of the pool \[0, 6\)/,
    );
  });

  it('rejects a length past the table and a host copy of the wrong size', () => {
    expect(() =>
      pagedAttentionLaunch({ ...common(), blockTableHost: new Int32Array(6), length: 13 }),
    ).toThrow(/length must be an integer in \[0, 12\]/);
    expect(() => pagedAttentionLaunch({ ...common(), blockTableHost: new Int32Array(5), length: 4 })).toThrow(
      /blockTableHost must be the host copy of blockTable \(6 entries\), got 5/,
    );
  });

  it('rejects pool strides that reach past the buffer, and split-K without partials', () => {
    expect(() =>
      pagedAttentionLaunch({
        ...common(),
        keyStrides: [64, 32, 8, 2],
        blockTableHost: new Int32Array(6),
        length: 4,
      }),
    ).toThrow(/keys \[6, 2, 4, 8\] with strides \[64, 32, 8, 2\] reaches past its buffer/);
    expect(() =>
      pagedAttentionLaunch({ ...common(), version: 2, blockTableHost: new Int32Array(6), length: 4 }),
    ).toThrow(/version 2 \(split-K\) needs 'partials' \(f32\) and 'splits'/);
  });
});

describe('cuda topk / sample argument checks', () => {
  it('topk: k in 1..V, outputs [.., k]', () => {
    expect(
      topkLaunch({ x: fake('f32', [3, 50]), k: 5, values: fake('f32', [3, 5]), indices: fake('i32', [3, 5]) })
        .params,
    ).toEqual([0, 3, 50, 5]);
    expect(() =>
      topkLaunch({ x: fake('f32', [3, 4]), k: 5, values: fake('f32', [3, 5]), indices: fake('i32', [3, 5]) }),
    ).toThrow(/k must be an integer in 1..4/);
    expect(() =>
      topkLaunch({ x: fake('f32', [3, 9]), k: 2, values: fake('f32', [3, 2]), indices: fake('f32', [3, 2]) }),
    ).toThrow(/indices must be i32, got f32/);
  });

  it('sample: uniforms f64 [rows], out i32 [rows], temperature >= 0', () => {
    const base = { logits: fake('bf16', [2, 100]), uniforms: fake('f64', [2]), out: fake('i32', [2]) };
    expect(sampleLaunch({ ...base, temperature: 0.7 }).params).toEqual([2, 2, 100, 0.7]);
    expect(() => sampleLaunch({ ...base, temperature: -1 })).toThrow(/option 'temperature' is invalid/);
    expect(() => sampleLaunch({ ...base, uniforms: fake('f32', [2]) })).toThrow(
      /uniforms must be f64, got f32/,
    );
  });
});
