import { describe, expect, it } from 'vitest';
import { exp, sizeOf, tensor, viewStrides } from './index';
import { makeTensor, mulberry32, randint, randn } from './test-utils';

const seq = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Tensor views share storage and copy nothing', () => {
  it('reshape of a contiguous tensor is a view; of a permuted one that merges across runs, a copy', async () => {
    const t = tensor(seq(24), [2, 3, 4]);
    const r = t.reshape([4, -1]);
    expect(r.shape).toEqual([4, 6]);
    expect(r.storage).toBe(t.storage);
    expect(await r.array()).toEqual(seq(24));
    const p = t.permute([2, 0, 1]);
    const rp = p.reshape([24]);
    expect(rp.storage).not.toBe(t.storage);
    const want = seq(24).map((i) => {
      const [c, a, b] = [Math.floor(i / 6), Math.floor(i / 3) % 2, i % 3];
      return a * 12 + b * 4 + c;
    });
    expect(await rp.array()).toEqual(want);
  });

  it('reshape of a non-contiguous view is still a view when it splits or merges only dims laid out together', async () => {
    const t = tensor(seq(24), [4, 6]);
    const cols = t.slice(1, 0, 3); // [4, 3], strides [6, 1]
    const split = cols.reshape([2, 2, 3]);
    expect(split.storage).toBe(t.storage);
    expect(split.strides).toEqual([12, 6, 1]);
    expect(await split.array()).toEqual(await cols.array());
    const flat = cols.reshape([12]); // rows are 6 apart but only 3 long: no stride reaches them all
    expect(flat.storage).not.toBe(t.storage);
    expect(await flat.array()).toEqual([0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20]);
    // Heads view [B, S, H, D] -> [B, H, S, D] with S = 1 (a decode step) merges back without a copy.
    const bshd = tensor(seq(2 * 1 * 3 * 4), [2, 1, 3, 4]);
    const merged = bshd.permute([0, 2, 1, 3]).permute([0, 2, 1, 3]).reshape([2, 1, 12]);
    expect(merged.storage).toBe(bshd.storage);
    const heads = bshd.permute([0, 2, 1, 3]).reshape([2, 12]);
    expect(heads.storage).toBe(bshd.storage);
    expect(await heads.array()).toEqual(seq(24));
    // A broadcast (stride 0) dimension can be split, and keeps stride 0.
    const e = tensor([1, 2, 3], [1, 3]).expand([4, 3]).reshape([2, 2, 3]);
    expect(e.strides).toEqual([0, 0, 1]);
    expect(await e.array()).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('reshape of random views equals reshape of their contiguous copy (views and copies both occur)', async () => {
    const rng = mulberry32(2718);
    const pick = (n: number) => Math.floor(rng() * n);
    /** A random shape with `n` elements: its prime factors shuffled into groups, plus a few 1s. */
    const factorShape = (n: number): number[] => {
      const primes: number[] = [];
      for (let m = n, p = 2; m > 1; ) {
        if (m % p === 0) {
          primes.push(p);
          m /= p;
        } else p++;
      }
      const out: number[] = [];
      for (const p of primes.sort(() => rng() - 0.5)) {
        if (out.length && rng() < 0.5) out[out.length - 1] *= p;
        else out.push(p);
      }
      while (rng() < 0.3) out.splice(pick(out.length + 1), 0, 1);
      return out;
    };
    let views = 0;
    let copies = 0;
    for (let trial = 0; trial < 300; trial++) {
      const shape = Array.from({ length: 1 + pick(4) }, () => 1 + pick(4));
      const base = tensor(randint(rng, sizeOf(shape) * 2, -99, 99), [...shape, 2]);
      // A random view: drop the last axis by a slice, then permute, slice or expand.
      let v = base.slice(-1, pick(2), undefined, 2).squeeze(-1);
      const kind = pick(3);
      if (kind === 0) v = v.permute([...v.shape.keys()].sort(() => rng() - 0.5));
      else if (kind === 1) {
        const ax = pick(v.rank);
        v = v.slice(ax, 0, Math.max(1, v.shape[ax] - pick(2)));
      } else {
        const ax = pick(v.rank + 1);
        const u = v.unsqueeze(ax);
        v = u.expand(u.shape.map((d, i) => (i === ax ? 3 : d)));
      }
      const target = factorShape(v.size);
      const r = v.reshape(target);
      expect(r.shape).toEqual(target);
      const label = `[${v.shape}] strides [${v.strides}] -> [${target}]`;
      expect(await r.array(), label).toEqual(await v.contiguous().array());
      const viewable = viewStrides(v.shape, v.strides, target) !== null;
      expect(r.storage === base.storage, label).toBe(v.isContiguous() || viewable);
      if (r.storage === base.storage) views++;
      else copies++;
    }
    expect(views).toBeGreaterThan(30);
    expect(copies).toBeGreaterThan(30);
  });

  it('permute / transpose reorder strides over the same storage', async () => {
    const t = tensor(seq(6), [2, 3]);
    const tt = t.transpose();
    expect(tt.storage).toBe(t.storage);
    expect(tt.shape).toEqual([3, 2]);
    expect(tt.strides).toEqual([1, 3]);
    expect(tt.isContiguous()).toBe(false);
    expect(await tt.array()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(t.permute([-1, 0]).strides).toEqual([1, 3]);
  });

  it('slice (with steps and negative indices), expand, squeeze and unsqueeze are views', async () => {
    const t = tensor(seq(20), [4, 5]);
    const s = t.slice(1, 1, -1, 2); // columns 1, 3
    expect(s.storage).toBe(t.storage);
    expect(s.shape).toEqual([4, 2]);
    expect(s.offset).toBe(1);
    expect(await s.array()).toEqual([1, 3, 6, 8, 11, 13, 16, 18]);
    expect(await t.slice(0, -1).array()).toEqual([15, 16, 17, 18, 19]);
    const col = tensor([1, 2], [2, 1]);
    const e = col.expand([3, 2, 4]);
    expect(e.storage).toBe(col.storage);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(await e.array()).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2]);
    const u = t.unsqueeze(1);
    expect(u.shape).toEqual([4, 1, 5]);
    expect(u.storage).toBe(t.storage);
    expect(u.squeeze(1).storage).toBe(t.storage);
    expect(u.unsqueeze(-1).squeeze().shape).toEqual([4, 5]);
  });

  it('contiguous() is a view when the layout allows, a copy otherwise', async () => {
    const t = tensor(seq(6), [2, 3]);
    expect(t.contiguous().storage).toBe(t.storage);
    expect(t.unsqueeze(0).contiguous().storage).toBe(t.storage);
    const c = t.transpose().contiguous();
    expect(c.storage).not.toBe(t.storage);
    expect(c.isContiguous()).toBe(true);
    expect(await c.array()).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('ops read non-contiguous views correctly (random data)', async () => {
    const x = randn(mulberry32(1), 30);
    const a = makeTensor(x, [5, 6], 'f32', 'permuted');
    const b = makeTensor(x, [5, 6], 'f32', 'strided');
    expect(a.isContiguous() || b.isContiguous()).toBe(false);
    expect(await exp(a).array()).toEqual(await exp(b).array());
    expect(await a.array()).toEqual(Array.from(x, Math.fround));
  });

  it('rejects invalid views with the op name and shapes', async () => {
    const t = tensor(seq(6), [2, 3]);
    expect(() => t.reshape([4, -1])).toThrow(/reshape: cannot infer -1 in \[4, -1\] for 6 elements/);
    expect(() => t.reshape([7])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[7\]/);
    expect(() => t.reshape([-1, -1])).toThrow(/reshape: invalid target shape/);
    expect(() => t.permute([0, 0])).toThrow(/permute: axes \[0, 0\] are not a permutation/);
    expect(() => t.slice(1, 2, 5)).toThrow(
      /slice: range \[2, 5\) step 1 is out of bounds for axis 1 of size 3/,
    );
    expect(() => t.expand([3, 3])).toThrow(/expand: cannot expand \[2, 3\] to \[3, 3\]/);
    expect(() => t.squeeze(0)).toThrow(/squeeze: axis 0 has size 2, not 1/);
    await expect(tensor([1, 2]).item()).rejects.toThrow(/item: tensor has 2 elements/);
  });
});

describe('dispose and reference counting', () => {
  it('a view keeps the storage alive; the last release frees it', async () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    const v = t.transpose();
    const storage = t.storage;
    expect(storage.refCount).toBe(2);
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(storage.freed).toBe(false);
    expect(await v.array()).toEqual([1, 3, 2, 4]);
    v.dispose();
    expect(storage.freed).toBe(true);
    v.dispose(); // idempotent
    expect(storage.refCount).toBe(0);
  });

  it('use after dispose throws naming the op', async () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => exp(t)).toThrow(/exp: input tensor of shape \[2\] \(f32\) was used after dispose/);
    expect(() => t.reshape([2])).toThrow(/reshape: .*after dispose/);
    expect(() => t.transpose(0, 0)).toThrow(/permute: .*after dispose/);
    await expect(t.data()).rejects.toThrow(/raw: .*after dispose/);
    expect(() => t.storage).toThrow(/use after dispose/);
    expect(String(t)).toBe('Tensor([2], f32, disposed)');
  });

  it('to() copies to another backend and leaves the source valid', async () => {
    const t = tensor([1.5, -2], [2], { dtype: 'f16' });
    const r = await t.transpose(0, 0).to('reference');
    expect(r.device).toBe('reference');
    expect(r.storage).not.toBe(t.storage);
    expect(await r.array()).toEqual([1.5, -2]);
    expect(await t.array()).toEqual([1.5, -2]);
  });
});
