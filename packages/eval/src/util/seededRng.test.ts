import { describe, expect, it } from 'vitest';
import { createRng } from './seededRng.js';

describe('createRng', () => {
  it('reproduces a stream from a seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('draws uniforms in [0,1) and standard normals with the right moments', () => {
    const rng = createRng(7);
    const n = 20000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      su += u;
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(outside).toBe(0);
    expect(su / n).toBeCloseTo(0.5, 1);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });

  it('int stays in range and shuffle is a permutation', () => {
    const rng = createRng(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[rng.int(7)]++;
    expect(counts.reduce((s, c) => s + c, 0)).toBe(7000); // every draw landed in 0..6
    for (const c of counts) expect(c).toBeGreaterThan(800);
    const arr = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...arr].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => rng.int(0)).toThrow(/positive integer/);
    expect(() => createRng(Number.NaN)).toThrow(/seed/);
  });
});
