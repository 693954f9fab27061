/**
 * Mixed-precision plans: the greedy allocation on a hand-made case, and on the code target a plan
 * mixing int4 with groups of 128 (low) and of 32 (high) at 4.25 bits per weight against uniform
 * int4 with groups of 64 (4.25 bits per weight) at no fewer bytes. Calibration: profile.py; evaluation: codecs.py and
 * shutil.py (fixtures/corpus/heldout, disjoint files).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlamaModel } from '../llama/model';
import { weightBytes } from '../llama/quantize';
import { loadCausalLM } from '../load';
import { FIXTURES, fixtureDir } from '../testing';
import { allocateBits, mixedPrecisionPlan } from './mixed-precision-plan';
import { nextTokenNll } from './next-token-nll';

const corpus = (file: string, from: number, n: number) => [
  256,
  ...readFileSync(join(FIXTURES, 'corpus/heldout', file)).subarray(from, from + n - 1),
];
const linearBytes = (m: LlamaModel) => {
  const w = m.heldWeights;
  return [w.lmHead, ...w.layers.flatMap((l) => [l.q, l.k, l.v, l.o, l.gate, l.up, l.down])].reduce(
    (s, x) => s + weightBytes(x),
    0,
  );
};

describe('mixed-precision plan', () => {
  it('allocates greedily by loss per byte saved (hand-made case)', () => {
    // Four linears of 100 weights: 8 bits high (100 B), 4 bits low (50 B); 'b' saves twice as much.
    const item = (key: string, sensitivity: number, bytesLow = 50) => ({
      key,
      weights: 100,
      bytesHigh: 100,
      bytesLow,
      sensitivity,
    });
    const items = [item('a', 0.3), item('b', 0.4, 0), item('c', 0.1), item('d', 0.9)];
    // Loss per byte: a 0.006, b 0.004, c 0.002, d 0.018. Budget 5 bits: 250 B of 400 -> move c
    // (350 B), b (250 B): done. Budget 3 bits: 150 B -> c, b, a (200 B), d (150 B).
    const five = allocateBits(items, 5);
    expect([...five.low].sort()).toEqual(['b', 'c']);
    expect(five.bits).toBe(5);
    expect([...allocateBits(items, 3).low].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(allocateBits(items, 8).low.size).toBe(0);
    expect(() => allocateBits(items, 2)).toThrow(/below what the low format alone takes \(3\.000/);
  });

  it('beats uniform int4 at equal or fewer bytes on the code target', async () => {
    const dir = fixtureDir('code-target');
    const calibration = corpus('profile.py', 0, 256);
    const heldout = [...corpus('codecs.py', 0, 512), ...corpus('shutil.py', 2048, 512)];
    const f32 = await loadCausalLM(dir);
    const { plan, bits, items } = await mixedPrecisionPlan(f32, {
      tokens: calibration,
      low: { format: 'int4-group', groupSize: 128 },
      high: { format: 'int4-group', groupSize: 32 },
      targetBits: 4.25,
    });
    expect(bits).toBeLessThanOrEqual(4.25);
    expect(items).toHaveLength(7 * f32.config.numLayers + 1);
    f32.quantize({ plan });
    const uniform = (await loadCausalLM(dir)).quantize({ format: 'int4-group', groupSize: 64 });
    const high = Object.entries(plan)
      .filter(([, f]) => f.groupSize === 32)
      .map(([k]) => k);
    const nll = { plan: await nextTokenNll(f32, heldout), uniform: await nextTokenNll(uniform, heldout) };
    const bytes = { plan: linearBytes(f32), uniform: linearBytes(uniform) };
    console.info('mixed precision (int4 g128 + int4 g32 @ 4.25 bits) vs uniform int4 g64:', {
      nll,
      bytes,
      bits,
      high,
    });
    expect(bytes.plan).toBeLessThanOrEqual(bytes.uniform);
    expect(nll.plan).toBeLessThan(nll.uniform);
    f32.dispose();
    uniform.dispose();
  });

  it('rejects bad options', async () => {
    const m = await loadCausalLM(fixtureDir('families/llama-mha'));
    await expect(
      mixedPrecisionPlan(m, {
        tokens: [1, 2],
        low: { format: 'q4_0' },
        high: { format: 'q8_0' },
        targetBits: 5,
        bits: 4,
      } as never),
    ).rejects.toThrow(/"bits".*allowed: tokens, low, high, targetBits, lmHead/);
    expect(() => m.quantize({ plan: { 'layers.9.q': { format: 'q4_0' } } })).toThrow(
      /layers\.9\.q.*2 layers/,
    );
    expect(() => m.quantize({ plan: { 'layer.0.q': { format: 'q4_0' } } as never })).toThrow(/plan/);
    expect(() => m.quantize({} as never)).toThrow(/one of 'format' or 'plan'/);
    m.dispose();
  });
});
