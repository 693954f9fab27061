/**
 * Device tests: every kernel version against its CPU reference on fresh random inputs (core-tensor's
 * ops on its 'reference' backend where one exists, src/reference/ otherwise), with tolerances per
 * dtype (gpu-testing.ts TOL: output rounding plus f32 accumulation). Skipped, saying so, where no
 * usable CUDA GPU is present: run them with scripts/gpu-check.sh on the GPU machine.
 */
import {
  add,
  layernorm,
  logSoftmax,
  matmul,
  mul,
  pagedSdpa,
  rmsnorm,
  rng,
  rope,
  ropeInvFreq,
  sdpa,
  silu,
  softmax,
  type Tensor,
  tensor,
  topk,
} from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { type CudaBackend, cudaDeviceInfo, isCudaAvailable, loadCudaBackend } from './backend';
import type { CudaTensor } from './cuda-tensor';
import { DecodeGraph } from './decode-graph';
import { fromDevice, roundTo, TOL, toDevice, worstError } from './gpu-testing';
import { defaultSplits, splitKPartialsLength } from './ops/decode-attention';
import {
  dequantizeInt4,
  dequantizeInt8,
  matvecReference,
  quantizeInt4,
  quantizeInt8,
} from './reference/matvec-reference';
import { sampleReference } from './reference/sample-reference';

const available = isCudaAvailable();
const why = available
  ? cudaDeviceInfo().devices[0]?.name
  : `skipped: no usable CUDA GPU (${cudaDeviceInfo().error})`;
const FLOATS = ['f32', 'f16', 'bf16'] as const;
const gen = rng(14_2026);
const randn = (n: number, scale = 1) => Float64Array.from(gen.normal(n), (x) => x * scale);
const ref = (values: ArrayLike<number>, shape: number[], dtype: 'f32' | 'bool' | 'i32' = 'f32') =>
  tensor(
    dtype === 'f32'
      ? Float32Array.from(values)
      : dtype === 'i32'
        ? Int32Array.from(values)
        : Uint8Array.from(values),
    shape,
    {
      device: 'reference',
      dtype,
    },
  );
const values = async (t: Tensor) => Float64Array.from(await t.data());

describe.skipIf(!available)(`CUDA kernels on the device (${why})`, () => {
  let be: CudaBackend;
  const backend = () => {
    be ??= loadCudaBackend();
    return be;
  };
  afterAll(() => be?.dispose());

  it('Backend contract: zero-filled alloc, write/read round trip, sync', async () => {
    const b = backend();
    const buf = b.alloc(64);
    expect([...(await b.read(buf, 0, 64))].every((x) => x === 0)).toBe(true);
    b.write(buf, 8, Uint8Array.from([1, 2, 3, 4]));
    expect([...(await b.read(buf, 6, 8))]).toEqual([0, 0, 1, 2, 3, 4, 0, 0]);
    await b.sync();
    b.free(buf);
  });

  for (const dtype of FLOATS) {
    for (const version of dtype === 'f32' ? [1, 2] : [1, 2, 3]) {
      for (const transB of [false, true]) {
        it(`gemm v${version} ${dtype}${transB ? ' transB' : ''} (batch 2, shared B, odd sizes) vs matmul reference`, async () => {
          const b = backend();
          const [batch, M, K, N] = [2, 67, 130, 45];
          const A = roundTo(dtype, randn(batch * M * K));
          const Bkn = roundTo(dtype, randn(K * N));
          const Bstored = transB
            ? Float32Array.from({ length: N * K }, (_, i) => Bkn[(i % K) * N + Math.floor(i / K)])
            : Bkn;
          const a = toDevice(b, dtype, [batch, M, K], A);
          const bb = toDevice(b, dtype, transB ? [N, K] : [K, N], Bstored);
          const out = b.empty(dtype, [batch, M, N]);
          b.gemm({ a, b: bb, out, transB, version: version as 1 | 2 | 3 });
          const want = await values(matmul(ref(A, [batch, M, K]), ref(Bkn, [K, N])));
          const { atol, rtol } = TOL[dtype];
          expect(worstError(await fromDevice(b, out), want, atol * 4, rtol)).toBeLessThanOrEqual(1);
          for (const t of [a, bb, out]) b.release(t);
        });
      }
    }
  }

  for (const act of ['f32', 'f16'] as const) {
    for (const format of ['f32', 'f16', 'bf16', 'int8', 'int4'] as const) {
      for (const version of [1, 2] as const) {
        it(`matvec v${version} ${format} weights, ${act} activations vs matvecReference`, async () => {
          const b = backend();
          const [M, N, K] = [3, 96, 256];
          const group = 64 as const;
          const x = roundTo(act, randn(M * K));
          const w = randn(N * K, 0.1);
          let weight: CudaTensor;
          let scales: CudaTensor | undefined;
          let dense: ArrayLike<number>;
          if (format === 'int8') {
            const q = quantizeInt8(w, N, K);
            weight = toDevice(b, 'i8', [N, K], q.q);
            scales = b.upload('f16', [N], q.scales);
            dense = dequantizeInt8(q, N, K);
          } else if (format === 'int4') {
            const q = quantizeInt4(w, N, K, group);
            weight = toDevice(b, 'u8', [N, K / 2], q.q);
            scales = b.upload('f16', [N, K / group], q.scales);
            dense = dequantizeInt4(q, N, K);
          } else {
            dense = roundTo(format, w);
            weight = toDevice(b, format, [N, K], dense);
          }
          const xd = toDevice(b, act, [M, K], x);
          const out = b.empty(act, [M, N]);
          b.matvec({
            x: xd,
            weight,
            format,
            scales,
            group: format === 'int4' ? group : undefined,
            out,
            version,
          });
          const want = matvecReference(x, dense, M, N, K);
          expect(
            worstError(await fromDevice(b, out), want, TOL[act].atol * 2, TOL[act].rtol),
          ).toBeLessThanOrEqual(1);
        });
      }
    }
  }

  for (const dtype of FLOATS) {
    for (const version of [1, 2] as const) {
      it(`softmax / logSoftmax v${version} ${dtype} vs reference`, async () => {
        const b = backend();
        const [R, N] = [7, 1000];
        const x = roundTo(dtype, randn(R * N, 4));
        const xd = toDevice(b, dtype, [R, N], x);
        for (const log of [false, true]) {
          const out = b.empty(dtype, [R, N]);
          b.softmax({ x: xd, out, log, version });
          const want = await values(log ? logSoftmax(ref(x, [R, N])) : softmax(ref(x, [R, N])));
          expect(
            worstError(await fromDevice(b, out), want, TOL[dtype].atol, TOL[dtype].rtol),
          ).toBeLessThanOrEqual(1);
        }
      });

      it(`rmsnorm / layernorm v${version} ${dtype} vs reference`, async () => {
        const b = backend();
        const [R, D] = [5, 300];
        const x = roundTo(
          dtype,
          randn(R * D, 3).map((v) => v + 1),
        );
        const w = roundTo(dtype, randn(D));
        const bias = roundTo(dtype, randn(D));
        const [xd, wd, bd] = [
          toDevice(b, dtype, [R, D], x),
          toDevice(b, dtype, [D], w),
          toDevice(b, dtype, [D], bias),
        ];
        const o1 = b.empty(dtype, [R, D]);
        b.rmsnorm({ x: xd, weight: wd, out: o1, eps: 1e-6, version });
        const o2 = b.empty(dtype, [R, D]);
        b.layernorm({ x: xd, weight: wd, bias: bd, out: o2, eps: 1e-5, version });
        const { atol, rtol } = TOL[dtype];
        expect(
          worstError(
            await fromDevice(b, o1),
            await values(rmsnorm(ref(x, [R, D]), ref(w, [D]), 1e-6)),
            atol,
            rtol,
          ),
        ).toBeLessThanOrEqual(1);
        expect(
          worstError(
            await fromDevice(b, o2),
            await values(layernorm(ref(x, [R, D]), ref(w, [D]), ref(bias, [D]), 1e-5)),
            atol,
            rtol,
          ),
        ).toBeLessThanOrEqual(1);
      });
    }

    it(`rope ${dtype}, rotate_half and interleaved, partial rotary dim, per-batch positions`, async () => {
      const b = backend();
      const [B, H, S, D, rotaryDim] = [2, 3, 9, 64, 48];
      const x = roundTo(dtype, randn(B * H * S * D));
      const pos = Int32Array.from({ length: B * S }, () => Math.floor(gen.uniform(1)[0] * 4000));
      const inv = ropeInvFreq(rotaryDim, { theta: 10000 });
      for (const interleaved of [false, true]) {
        const out = b.empty(dtype, [B, H, S, D]);
        b.rope({
          x: toDevice(b, dtype, [B, H, S, D], x),
          positions: toDevice(b, 'i32', [B, S], pos),
          invFreq: toDevice(b, 'f64', [inv.length], inv),
          out,
          interleaved,
        });
        const want = await values(
          rope(ref(x, [B, H, S, D]), ref(pos, [B, S], 'i32'), { theta: 10000, rotaryDim, interleaved }),
        );
        expect(
          worstError(await fromDevice(b, out), want, TOL[dtype].atol, TOL[dtype].rtol),
        ).toBeLessThanOrEqual(1);
      }
    });

    for (const version of [1, 2] as const) {
      it(`elementwise v${version} ${dtype}: add, mul, siluMul vs reference`, async () => {
        const b = backend();
        const n = 10_001;
        const [x, y] = [roundTo(dtype, randn(n, 3)), roundTo(dtype, randn(n))];
        const [xd, yd] = [toDevice(b, dtype, [n], x), toDevice(b, dtype, [n], y)];
        const refs = {
          add: add(ref(x, [n]), ref(y, [n])),
          mul: mul(ref(x, [n]), ref(y, [n])),
          siluMul: mul(silu(ref(x, [n])), ref(y, [n])),
        };
        for (const op of ['add', 'mul', 'siluMul'] as const) {
          const out = b.empty(dtype, [n]);
          b.elementwise({ op, a: xd, b: yd, out, version });
          expect(
            worstError(
              await fromDevice(b, out),
              await values(refs[op]),
              TOL[dtype].atol * 2,
              TOL[dtype].rtol * 2,
            ),
          ).toBeLessThanOrEqual(1);
        }
      });
    }
  }

  // A tree-style mask [S, T] (random, 70% allowed) with one query row fully masked (zeros expected).
  function treeMask(S: number, T: number): Uint8Array {
    const u = gen.uniform(S * T);
    const m = Uint8Array.from(u, (x) => (x < 0.7 ? 1 : 0));
    m.fill(0, 0, T);
    return m;
  }

  for (const dtype of FLOATS) {
    for (const version of [1, 2] as const) {
      for (const [D, Dv] of [
        [64, 64],
        [128, 96],
        [256, 256],
      ] as const) {
        it(`attention v${version} ${dtype} D=${D} Dv=${Dv}: GQA, causal + tree mask vs sdpa reference`, async () => {
          const b = backend();
          const [B, Hq, Hkv, S, T] = [2, 8, 2, 37, 50];
          const q = roundTo(dtype, randn(B * Hq * S * D));
          const k = roundTo(dtype, randn(B * Hkv * T * D));
          const v = roundTo(dtype, randn(B * Hkv * T * Dv));
          const mask = treeMask(S, T);
          for (const causal of [false, true]) {
            const out = b.empty(dtype, [B, Hq, S, Dv]);
            b.attention({
              q: toDevice(b, dtype, [B, Hq, S, D], q),
              k: toDevice(b, dtype, [B, Hkv, T, D], k),
              v: toDevice(b, dtype, [B, Hkv, T, Dv], v),
              out,
              mask: toDevice(b, 'u8', [S, T], mask),
              causal,
              version,
            });
            const want = await values(
              sdpa(ref(q, [B, Hq, S, D]), ref(k, [B, Hkv, T, D]), ref(v, [B, Hkv, T, Dv]), {
                causal,
                mask: ref(mask, [S, T], 'bool'),
              }),
            );
            expect(
              worstError(await fromDevice(b, out), want, TOL[dtype].atol * 2, TOL[dtype].rtol * 2),
            ).toBeLessThanOrEqual(1);
          }
        });
      }
    }

    for (const splits of [1, 7, defaultSplits(1000)]) {
      it(`decodeAttention ${dtype} split-K ${splits}: S=2 causal over T=1000 vs sdpa reference`, async () => {
        const b = backend();
        const [B, Hq, Hkv, S, T, D] = [2, 8, 4, 2, 1000, 128];
        const q = roundTo(dtype, randn(B * Hq * S * D));
        const k = roundTo(dtype, randn(B * Hkv * T * D));
        const v = roundTo(dtype, randn(B * Hkv * T * D));
        const out = b.empty(dtype, [B, Hq, S, D]);
        const partials = b.empty('f32', [splitKPartialsLength(B * Hq * S, splits, D)]);
        b.decodeAttention({
          q: toDevice(b, dtype, [B, Hq, S, D], q),
          k: toDevice(b, dtype, [B, Hkv, T, D], k),
          v: toDevice(b, dtype, [B, Hkv, T, D], v),
          out,
          partials,
          splits,
          causal: true,
        });
        const want = await values(
          sdpa(ref(q, [B, Hq, S, D]), ref(k, [B, Hkv, T, D]), ref(v, [B, Hkv, T, D]), { causal: true }),
        );
        expect(
          worstError(await fromDevice(b, out), want, TOL[dtype].atol * 2, TOL[dtype].rtol * 2),
        ).toBeLessThanOrEqual(1);
      });
    }

    for (const version of [1, 2] as const) {
      it(`pagedAttention v${version} ${dtype}: head-major pool via strides, shared blocks, causal vs pagedSdpa reference`, async () => {
        const b = backend();
        const [B, Hq, Hkv, S, D, bs, N, maxBlocks, T] = [3, 4, 2, 3, 64, 16, 20, 6, 83];
        // the pool as @hasten/kv stores it: [Hkv, N, bs, D]; the reference gets [N, Hkv, bs, D]
        const poolK = roundTo(dtype, randn(Hkv * N * bs * D));
        const poolV = roundTo(dtype, randn(Hkv * N * bs * D));
        const blockMajor = (p: Float32Array) => {
          const o = new Float32Array(p.length);
          for (let h = 0; h < Hkv; h++)
            for (let n = 0; n < N; n++)
              o.set(p.subarray((h * N + n) * bs * D, (h * N + n + 1) * bs * D), (n * Hkv + h) * bs * D);
          return o;
        };
        const table = Int32Array.from({ length: B * maxBlocks }, () => Math.floor(gen.uniform(1)[0] * N));
        table[maxBlocks] = table[0]; // rows 0 and 1 share their first block (a forked prompt)
        const q = roundTo(dtype, randn(B * Hq * S * D));
        const strides: [number, number, number, number] = [bs * D, N * bs * D, D, 1];
        const splits = 4;
        const out = b.empty(dtype, [B, Hq, S, D]);
        b.pagedAttention({
          q: toDevice(b, dtype, [B, Hq, S, D], q),
          keys: { ...toDevice(b, dtype, [Hkv * N * bs * D], poolK), shape: [N, Hkv, bs, D] },
          values: { ...toDevice(b, dtype, [Hkv * N * bs * D], poolV), shape: [N, Hkv, bs, D] },
          keyStrides: strides,
          valueStrides: strides,
          blockTable: toDevice(b, 'i32', [B, maxBlocks], table),
          blockTableHost: table,
          length: T,
          out,
          causal: true,
          version,
          splits: version === 2 ? splits : undefined,
          partials: version === 2 ? b.empty('f32', [splitKPartialsLength(B * Hq * S, splits, D)]) : undefined,
        });
        const want = await values(
          pagedSdpa(
            ref(q, [B, Hq, S, D]),
            {
              keys: ref(blockMajor(poolK), [N, Hkv, bs, D]),
              values: ref(blockMajor(poolV), [N, Hkv, bs, D]),
              blockTable: ref(table, [B, maxBlocks], 'i32'),
              length: T,
            },
            { causal: true },
          ),
        );
        expect(
          worstError(await fromDevice(b, out), want, TOL[dtype].atol * 2, TOL[dtype].rtol * 2),
        ).toBeLessThanOrEqual(1);
      });
    }

    for (const version of [1, 2] as const) {
      it(`topk v${version} ${dtype} (ties included) vs topk reference`, async () => {
        const b = backend();
        const [R, V, k] = [5, 3000, 20];
        const x = roundTo(
          dtype,
          randn(R * V).map((v) => Math.round(v * 8) / 8),
        ); // many ties
        const values_ = b.empty(dtype, [R, k]);
        const indices = b.empty('i32', [R, k]);
        b.topk({ x: toDevice(b, dtype, [R, V], x), k, values: values_, indices, version });
        const want = topk(ref(x, [R, V]), k);
        expect([...(await fromDevice(b, indices))]).toEqual([...(await want.indices.data())]);
        expect([...(await fromDevice(b, values_))]).toEqual([...(await values(want.values))]);
      });
    }

    it(`sample ${dtype}: inverse CDF with given uniforms vs sampleReference`, async () => {
      const b = backend();
      const [R, V] = [16, 5000];
      const x = roundTo(dtype, randn(R * V, 3));
      const xd = toDevice(b, dtype, [R, V], x);
      for (const temperature of [0, 0.7, 1.3]) {
        const u = gen.uniform(R);
        const out = b.empty('i32', [R]);
        b.sample({ logits: xd, uniforms: toDevice(b, 'f64', [R], u), out, temperature });
        const got = await fromDevice(b, out);
        for (let r = 0; r < R; r++) {
          const row = x.subarray(r * V, (r + 1) * V);
          const want = sampleReference(row, u[r], temperature);
          // the device sums in another order: accept a neighbour only when u sits on that boundary
          if (got[r] !== want) {
            const lo = sampleReference(row, Math.max(0, u[r] - 1e-12), temperature);
            const hi = sampleReference(row, Math.min(1 - 2 ** -53, u[r] + 1e-12), temperature);
            expect([lo, hi]).toContain(got[r]);
          } else {
            expect(got[r]).toBe(want);
          }
        }
      }
    });
  }

  it('a captured decode step replays to the same result as the eager one', async () => {
    const b = backend();
    const [R, N] = [4, 512];
    const x = toDevice(b, 'f32', [R, N], randn(R * N));
    const w = toDevice(b, 'f32', [N], randn(N));
    const h = b.empty('f32', [R, N]);
    const y = b.empty('f32', [R, N]);
    const graph = new DecodeGraph(b);
    const step = () => {
      b.rmsnorm({ x, weight: w, out: h });
      b.softmax({ x: h, out: y });
    };
    expect(graph.step('shape', step)).toBe('eager');
    const eager = await fromDevice(b, y);
    b.write(y.buffer, 0, new Float32Array(R * N));
    expect(graph.step('shape', step)).toBe('captured');
    expect(await fromDevice(b, y)).toEqual(eager);
    b.write(y.buffer, 0, new Float32Array(R * N));
    expect(graph.step('shape', step)).toBe('replayed');
    expect(await fromDevice(b, y)).toEqual(eager);
    graph.reset();
  });
});
