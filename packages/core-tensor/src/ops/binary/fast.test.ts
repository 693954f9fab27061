/**
 * The fast f32 add/sub/mul/div ('cpu') against the reference kernel ('reference') on fresh seeded
 * inputs: same-shape contiguous operands, a bias row, column and scalar broadcasts on either side,
 * JS number operands, non-contiguous views and empty shapes. The f32 result of the float64 operation
 * is the correctly rounded one for these four ops, so the results must be equal bit for bit. Other
 * ops and dtypes still run the reference kernel.
 */
import { describe, expect, it } from 'vitest';
import { add, div, maximum, mul, sub, type Tensor } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randint, randn } from '../../test-utils';
import { bitMismatch, expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { binaryFast } from './fast';

const rng = mulberry32(1234);
const OPS = { add, sub, mul, div } as Record<string, (a: Tensor, b: Tensor | number) => Tensor>;

describe('add/sub/mul/div fast kernel vs reference', () => {
  it('is the cpu kernel', () => {
    for (const op of Object.keys(OPS)) expectCpuKernel(op, binaryFast);
  });

  it('equals the reference bit for bit on broadcasts and layouts', async () => {
    const pairs: [number[], number[]][] = [
      [
        [2, 1, 128],
        [2, 1, 128],
      ], // residual add
      [
        [1, 1, 352],
        [1, 1, 352],
      ], // SwiGLU product
      [[5, 128], [128]], // bias row
      [[128], [3, 1, 128]], // bias row on the left
      [
        [4, 1],
        [1, 6],
      ], // outer broadcast
      [
        [2, 3, 4],
        [3, 1],
      ], // column
      [[2, 3, 4], []], // scalar tensor
      [[2, 0, 3], [3]], // empty
      [[], []],
      [
        [2, 2, 3, 5],
        [2, 2, 3, 5],
      ],
    ];
    let n = 0;
    for (const [sa, sb] of pairs) {
      for (const [name, f] of Object.entries(OPS)) {
        const la = FAST_LAYOUTS[n % (sa.length === 4 ? 5 : 3)];
        const lb = FAST_LAYOUTS[(n + 1) % (sb.length === 4 ? 5 : 3)];
        const a = onBoth(randn(rng, sizeOf(sa), 4), sa, 'f32', la);
        // div: include exact zeros in the divisor (±Inf and NaN results must match too).
        const bv = name === 'div' ? randint(rng, sizeOf(sb), -2, 3) : randn(rng, sizeOf(sb), 4);
        const b = onBoth(bv, sb, 'f32', lb);
        expect(
          await bitMismatch(f(a.cpu, b.cpu), f(a.ref, b.ref)),
          `${name} [${sa}] ${la} / [${sb}] ${lb}`,
        ).toBeNull();
        n++;
      }
    }
  });

  it('JS number operands; f16, i32 and other ops go to the reference kernel', async () => {
    const a = onBoth(randn(rng, 12), [3, 4], 'f32', 'permuted');
    for (const [name, f] of Object.entries(OPS))
      expect(await bitMismatch(f(a.cpu, 0.3), f(a.ref, 0.3)), `${name} by a number`).toBeNull();
    expect(await bitMismatch(maximum(a.cpu, 0), maximum(a.ref, 0)), 'maximum').toBeNull();
    const h = onBoth(randn(rng, 12), [3, 4], 'f16', 'strided');
    const hb = onBoth(randn(rng, 4), [4], 'f16');
    expect(await bitMismatch(add(h.cpu, hb.cpu), add(h.ref, hb.ref)), 'f16 add').toBeNull();
    const i = onBoth(randint(rng, 12, -50, 50), [3, 4], 'i32');
    const ib = onBoth(randint(rng, 4, 1, 9), [4], 'i32');
    expect(await bitMismatch(div(i.cpu, ib.cpu), div(i.ref, ib.ref)), 'i32 div').toBeNull();
    expect(await bitMismatch(sub(i.cpu, ib.cpu), sub(i.ref, ib.ref)), 'i32 sub').toBeNull();
  });
});
