/**
 * The packed-weight cache when the weights do not fit in WebAssembly memory, forced with a runtime
 * whose memory is limited to 4 MiB (real models reach wasm32's 4 GiB above ~1B f32 parameters):
 * the weights that fit stay packed, the others are packed per call, results stay exact, and the
 * condition is reported once with its numbers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { linear, type Tensor, tensor } from '../../index';
import { cpuMatmulInfo, createGemmRuntime, type GemmRuntime, setGemmRuntime } from './gemm-runtime';

const MiB = 2 ** 20;
const K = 512;
const N = 512; // one packed weight: K * N * 4 bytes = 1 MiB

/** Weight i: row j holds (i + 1) / 1000 + j / 1e6, so y[j] = K * that for an input of ones. */
function weight(i: number): Tensor {
  const w = new Float32Array(N * K);
  for (let j = 0; j < N; j++) w.fill((i + 1) / 1000 + j / 1e6, j * K, (j + 1) * K);
  return tensor(w, [N, K]);
}

async function expectOutput(x: Tensor, w: Tensor, i: number): Promise<void> {
  const y = linear(x, w);
  const d = await y.data();
  const rows = x.shape[0];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < N; j += 97) {
      // Exact sums of equal f32 terms: well within f32 rounding of K * value.
      expect(d[r * N + j]).toBeCloseTo(K * Math.fround((i + 1) / 1000 + j / 1e6), 3);
    }
  }
  y.dispose();
}

function limitedRuntime(bytes: number): GemmRuntime {
  const rt = createGemmRuntime({ relaxed: false, maxMemoryBytes: bytes });
  setGemmRuntime(rt);
  return rt;
}

describe('packed weights beyond the WebAssembly memory limit', () => {
  afterEach(() => {
    setGemmRuntime(null);
    vi.restoreAllMocks();
  });

  it('keeps the weights that fit, packs the others per call, and says so once with the numbers', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const rt = limitedRuntime(4 * MiB);
    const ws = [0, 1, 2, 3].map(weight); // 4 MiB packed: cannot fit beside scratch in 4 MiB
    const x = tensor(new Float32Array(K).fill(1), [1, K]);
    const alloc = vi.spyOn(rt.heap, 'alloc');
    const rounds: { allocated: number; repacks: number; cached: number }[] = [];
    for (let round = 0; round < 4; round++) {
      const before = { calls: alloc.mock.results.length, repacks: cpuMatmulInfo().packedWeights.repacks };
      for (let i = 0; i < ws.length; i++) await expectOutput(x, ws[i], i);
      const results = alloc.mock.results.slice(before.calls);
      rounds.push({
        allocated: results.filter((r) => r.type === 'return').length,
        repacks: cpuMatmulInfo().packedWeights.repacks - before.repacks,
        cached: cpuMatmulInfo().packedWeights.cached,
      });
    }
    // Round 0 packs three weights and a scratch; the fourth does not fit, and its scratch evicts the
    // third. From then on two weights stay packed and only the other two are packed, per call, into
    // the same scratch: no new blocks (the old code freed every weight on a miss and re-packed all
    // four in every round, without a word).
    expect(rounds[0]).toMatchObject({ repacks: 1, cached: 2 });
    for (const r of rounds.slice(1)) expect(r).toEqual({ allocated: 0, repacks: 2, cached: 2 });
    const info = cpuMatmulInfo();
    expect(info.wasmMemoryLimitBytes).toBe(4 * MiB);
    expect(info.packedWeights).toMatchObject({
      cached: 2,
      cachedBytes: 2 * MiB,
      overflowWeights: 2,
      overflowBytes: 2 * MiB,
      repacks: 7,
    });
    expect(warn).toHaveBeenCalledTimes(1);
    const msg = String(warn.mock.calls[0][0]);
    expect(msg).toMatch(/packed f32 weights do not fit in WebAssembly memory/);
    expect(msg).toMatch(/a \[512 x 512\] weight needs 1\.0 MiB more/);
    expect(msg).toMatch(/3 packed weights, 3\.0 MiB\) and the limit is 4\.0 MiB/);
    expect(msg).toMatch(/packed again on every call/);
  });

  it('a prefill whose scratch does not fit evicts packed weights instead of failing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    limitedRuntime(4 * MiB);
    const ws = [0, 1, 2].map(weight);
    const one = tensor(new Float32Array(K).fill(1), [1, K]);
    for (let i = 0; i < ws.length; i++) await expectOutput(one, ws[i], i);
    expect(cpuMatmulInfo().packedWeights.cached).toBe(3);
    // 300 rows: A and C take 1.2 MiB of scratch, more than the memory has left.
    const rows = tensor(new Float32Array(300 * K).fill(1), [300, K]);
    await expectOutput(rows, ws[0], 0);
    expect(cpuMatmulInfo().packedWeights.cached).toBeLessThan(3);
    for (let i = 0; i < ws.length; i++) await expectOutput(one, ws[i], i);
    expect(warn).toHaveBeenCalledTimes(1); // an evicted weight no longer fits: reported, once
  });

  it('stays silent while everything fits', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    limitedRuntime(8 * MiB);
    const ws = [0, 1, 2, 3].map(weight);
    const x = tensor(new Float32Array(K).fill(1), [1, K]);
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < ws.length; i++) await expectOutput(x, ws[i], i);
    expect(cpuMatmulInfo().packedWeights).toMatchObject({ cached: 4, overflowWeights: 0, repacks: 0 });
    expect(warn).not.toHaveBeenCalled();
  });

  it('throws a RangeError naming the limit when even one call cannot fit', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    limitedRuntime(2 * MiB);
    const big = tensor(new Float32Array(1024 * K), [1024, K]); // 2 MiB packed, plus scratch
    expect(() => linear(tensor(new Float32Array(K), [1, K]), big)).toThrow(/exceed its 2097152-byte limit/);
  });
});
