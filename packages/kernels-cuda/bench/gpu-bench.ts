/**
 * @file Device benchmarks for scripts/gpu-check.sh (bundled and run with a bare node on the GPU
 * machine). Each case counts its FLOPs and bytes, times the kernel by replaying a CUDA graph of
 * `reps` launches (so JavaScript launch overhead is not measured), and sets the figure beside the
 * same operation in PyTorch on the same device (cuBLAS, scaled_dot_product_attention; read from the
 * JSON that scripts/gpu/torch_bench.py wrote) and beside the device-to-device copy ceiling measured
 * in the same run. Output: JSON (path in argv[2]) with the device name, the commit and every case.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type CudaBackend, loadCudaBackend } from '../src/backend';
import type { CudaTensor } from '../src/cuda-tensor';
import { toDevice } from '../src/gpu-testing';
import { defaultSplits, splitKPartialsLength } from '../src/ops/decode-attention';
import { quantizeInt4, quantizeInt8 } from '../src/reference/matvec-reference';

interface Case {
  name: string;
  ms: number;
  tflops?: number;
  gbps?: number;
  torchName?: string;
  torchMs?: number;
  /** ours / torch in throughput (1 = as fast as PyTorch). */
  ratioToTorch?: number;
  /** achieved bandwidth / measured copy ceiling. */
  ratioToCopyCeiling?: number;
}

const [outPath, torchPath, commit, deviceName] = process.argv.slice(2);
// The PyTorch figures are optional: without them (torch_bench.py failed) our cases still run.
const torch: Record<string, number> =
  torchPath && existsSync(torchPath) ? (JSON.parse(readFileSync(torchPath, 'utf8')).ms ?? {}) : {};
const be: CudaBackend = loadCudaBackend();

/** Milliseconds per call of `enqueue`: a graph of `reps` calls, replayed `rounds` times after a warm-up. */
async function time(enqueue: () => void, reps: number, rounds = 5): Promise<number> {
  enqueue();
  await be.sync();
  const ctx = be.context;
  ctx.beginCapture();
  for (let i = 0; i < reps; i++) enqueue();
  const graph = ctx.endCapture();
  ctx.launchGraph(graph);
  await be.sync();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) ctx.launchGraph(graph);
  await be.sync();
  const ms = (performance.now() - t0) / (rounds * reps);
  ctx.destroyGraph(graph);
  return ms;
}

const rand = (n: number, scale = 1) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
};
const cases: Case[] = [];
function record(c: Case): void {
  if (c.torchName && torch[c.torchName] !== undefined) {
    c.torchMs = torch[c.torchName];
    c.ratioToTorch = c.torchMs / c.ms;
  }
  cases.push(c);
  console.log(JSON.stringify(c));
}

// Device copy ceiling: 1 GiB device-to-device, bytes read + written.
const copyBytes = 2 ** 30;
const src = be.alloc(copyBytes);
const dst = be.alloc(copyBytes);
const copyMs = await time(() => be.context.copy(dst.id, 0, src.id, 0, copyBytes), 5);
const ceiling = (2 * copyBytes) / (copyMs * 1e6);
record({ name: 'copy 1 GiB device-to-device (ceiling)', ms: copyMs, gbps: ceiling, torchName: 'copy_1GiB' });
be.free(src);
be.free(dst);

// GEMM 4096^3 bf16 (v3 tensor cores, v2 CUDA cores) and the decode-shaped products.
{
  const n = 4096;
  const a = toDevice(be, 'bf16', [n, n], rand(n * n));
  const b = toDevice(be, 'bf16', [n, n], rand(n * n));
  const c = be.empty('bf16', [n, n]);
  for (const version of [3, 2] as const) {
    const ms = await time(() => be.gemm({ a, b, out: c, transB: true, version }), 5, 3);
    record({
      name: `gemm v${version} bf16 4096x4096x4096 (B as [N, K]) vs torch.matmul (cuBLAS)`,
      ms,
      tflops: (2 * n ** 3) / (ms * 1e9),
      torchName: 'gemm_bf16_4096',
    });
  }
  for (const t of [a, b, c]) be.release(t);
}

// Decode: y[1, N] = x[1, K] W^T for a 7B-shaped layer; bandwidth = weight bytes / time.
for (const [N, K] of [
  [4096, 4096],
  [14336, 4096],
] as const) {
  const x = toDevice(be, 'f16', [1, K], rand(K));
  const y = be.empty('f16', [1, N]);
  const w = rand(N * K, 0.05);
  const f16 = toDevice(be, 'f16', [N, K], w);
  const ms16 = await time(() => be.matvec({ x, weight: f16, format: 'f16', out: y }), 50);
  const gb16 = (N * K * 2) / (ms16 * 1e6);
  record({
    name: `matvec f16 1x${K} @ [${N}, ${K}]^T vs torch F.linear`,
    ms: ms16,
    gbps: gb16,
    ratioToCopyCeiling: gb16 / ceiling,
    torchName: `linear_f16_${N}x${K}`,
  });
  be.release(f16);
  const q8 = quantizeInt8(w, N, K);
  const w8 = toDevice(be, 'i8', [N, K], q8.q);
  const s8 = be.upload('f16', [N], q8.scales);
  const ms8 = await time(() => be.matvec({ x, weight: w8, format: 'int8', scales: s8, out: y }), 50);
  const gb8 = (N * K + N * 2) / (ms8 * 1e6);
  record({
    name: `matvec int8/channel 1x${K} @ [${N}, ${K}]^T`,
    ms: ms8,
    gbps: gb8,
    ratioToCopyCeiling: gb8 / ceiling,
    torchName: `linear_f16_${N}x${K}`,
  });
  be.release(w8);
  be.release(s8);
  const q4 = quantizeInt4(w, N, K, 128);
  const w4 = toDevice(be, 'u8', [N, K / 2], q4.q);
  const s4 = be.upload('f16', [N, K / 128], q4.scales);
  const ms4 = await time(
    () => be.matvec({ x, weight: w4, format: 'int4', scales: s4, group: 128, out: y }),
    50,
  );
  const gb4 = (N * K) / 2 / (ms4 * 1e6);
  record({
    name: `matvec int4/g128 1x${K} @ [${N}, ${K}]^T`,
    ms: ms4,
    gbps: gb4,
    ratioToCopyCeiling: gb4 / ceiling,
    torchName: `linear_f16_${N}x${K}`,
  });
  be.release(w4);
  be.release(s4);
  be.release(x);
  be.release(y);
}

// Attention: prefill (flash v2) and split-K decode, bf16, 32 query heads over 8 kv heads, D 128.
{
  const [B, Hq, Hkv, S, D] = [1, 32, 8, 2048, 128];
  const q = toDevice(be, 'bf16', [B, Hq, S, D], rand(B * Hq * S * D));
  const k = toDevice(be, 'bf16', [B, Hkv, S, D], rand(B * Hkv * S * D));
  const v = toDevice(be, 'bf16', [B, Hkv, S, D], rand(B * Hkv * S * D));
  const o = be.empty('bf16', [B, Hq, S, D]);
  const ms = await time(() => be.attention({ q, k, v, out: o, causal: true }), 3, 3);
  const flops = (4 * B * Hq * S * S * D) / 2; // causal: half of QK^T and PV
  record({
    name: 'attention v2 prefill bf16 B1 Hq32 Hkv8 S=T=2048 D128 causal vs torch sdpa',
    ms,
    tflops: flops / (ms * 1e9),
    torchName: 'sdpa_prefill_bf16',
  });
  for (const t of [q, o]) be.release(t);
  const T = 2048;
  const qd = toDevice(be, 'bf16', [B, Hq, 1, D], rand(Hq * D));
  const od = be.empty('bf16', [B, Hq, 1, D]);
  const splits = defaultSplits(T);
  const partials = be.empty('f32', [splitKPartialsLength(B * Hq, splits, D)]);
  const msd = await time(() => be.decodeAttention({ q: qd, k, v, out: od, partials, splits }), 50);
  const bytes = 2 * B * Hkv * T * D * 2;
  const gbd = bytes / (msd * 1e6);
  record({
    name: `decodeAttention split-K(${splits}) bf16 S=1 T=${T} GQA 32/8 D128 vs torch sdpa`,
    ms: msd,
    gbps: gbd,
    ratioToCopyCeiling: gbd / ceiling,
    torchName: 'sdpa_decode_bf16',
  });
  for (const t of [k, v, qd, od, partials] as CudaTensor[]) be.release(t);
}

writeFileSync(
  outPath,
  `${JSON.stringify({ schema: 'hasten.kernels-cuda.gpu-check/1', device: deviceName ?? be.describe(), backend: be.describe(), commit, date: new Date().toISOString(), copyCeilingGBps: ceiling, torch, cases }, null, 2)}\n`,
);
be.dispose();
