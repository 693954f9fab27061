import { describe, expect, it } from 'vitest';
import { loadAddon } from './addon';
import { qgemvNative } from './qgemv';
import {
  denseOf,
  errorBound,
  firstMismatch,
  mulberry32,
  referenceProduct,
  shapeFor,
  uniform,
  WEIGHT_CASES,
} from './test-utils';

const load = loadAddon();
const isas = load.addon ? load.addon.info().isas : [];
if (!load.addon) console.warn(`kernels-cpu qgemv tests skipped: ${load.reason}`);

describe.skipIf(!load.addon)('qgemvNative against core-tensor reference kernels', () => {
  it('the CPU offers the scalar kernels at least', () => {
    expect(isas).toContain('scalar');
  });

  WEIGHT_CASES.forEach(([label, multiple, make], ci) => {
    it(`${label}: every ISA (${isas.join(', ')}), 1 and 2 threads, m in 1, 2, 3, 4, 5, 8, 11`, async () => {
      const [n, k] = shapeFor(multiple);
      const rng = mulberry32(1000 + ci);
      const w = make(rng, n, k);
      const dense = denseOf(w);
      for (const m of [1, 2, 3, 4, 5, 8, 11]) {
        const x = uniform(rng, m * k);
        const ref = await referenceProduct(w, x, m);
        const bound = errorBound(dense, x, m, n, k);
        for (const isa of isas)
          for (const threads of [1, 2] as const) {
            const y = qgemvNative(w, x, m, { isa, threads });
            const bad = firstMismatch(y, ref, bound);
            expect(
              bad,
              bad < 0
                ? ''
                : `${isa}, ${threads} thread(s), m = ${m}: y[${bad}] = ${y[bad]}, reference ${ref[bad]}`,
            ).toBe(-1);
          }
      }
    });
  });

  it('group formats where K is whole blocks of 32 but ends inside a group (K = 160, groups of 64 and 128)', async () => {
    const [n, k] = [33, 160];
    for (const [label, , make] of WEIGHT_CASES.filter(([l]) => l.includes('group'))) {
      const rng = mulberry32(label.length * 31 + 5);
      const w = make(rng, n, k);
      const dense = denseOf(w);
      for (const m of [1, 3, 8]) {
        const x = uniform(rng, m * k);
        const ref = await referenceProduct(w, x, m);
        const bound = errorBound(dense, x, m, n, k);
        for (const isa of isas) {
          const y = qgemvNative(w, x, m, { isa, threads: 1 });
          expect(firstMismatch(y, ref, bound), `${label}, ${isa}, m = ${m}`).toBe(-1);
        }
      }
    }
  });

  it('NaN in x gives NaN in its row only; m = 0 gives an empty result', () => {
    const rng = mulberry32(7);
    const [n, k] = [40, 96];
    const w = WEIGHT_CASES.find(([l]) => l === 'q4_0')?.[2](rng, n, k);
    if (!w) throw new Error('no q4_0 case');
    const x = uniform(rng, 2 * k);
    x[k + 5] = Number.NaN;
    for (const isa of isas) {
      const y = qgemvNative(w, x, 2, { isa, threads: 1 });
      expect(y.subarray(0, n).every(Number.isFinite)).toBe(true);
      expect(y.subarray(n).every(Number.isNaN)).toBe(true);
    }
    expect(qgemvNative(w, new Float32Array(0), 0).length).toBe(0);
  });

  it('rejects wrong sizes and options with errors that name them', () => {
    const rng = mulberry32(8);
    const w = { format: 'f32' as const, shape: [4, 8] as const, data: uniform(rng, 32) };
    expect(() => qgemvNative(w, new Float32Array(7), 1)).toThrow(/x has 7 values, expected m \* K = 8/);
    expect(() => qgemvNative(w, new Float32Array(8), 1, { threads: 3 as 1 })).toThrow(/threads/);
    expect(() => qgemvNative(w, new Float32Array(8), 1, { bogus: 1 } as object)).toThrow(/bogus/);
    expect(() => qgemvNative({ ...w, data: new Float32Array(31) }, new Float32Array(8), 1)).toThrow(
      /32 values/,
    );
  });
});
