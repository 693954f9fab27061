import { describe, expect, it } from 'vitest';
import { add, keep, mul, scope, scopeAsync, tensor } from './index';
import type { Tensor } from './tensor';

describe('scope', () => {
  it('disposes intermediates and keeps what fn returns (arrays, objects, maps)', () => {
    const x = tensor([1, 2]);
    let tmp: Tensor | undefined;
    const out = scope(() => {
      tmp = mul(x, 2);
      const a = add(tmp, 1);
      const b = add(tmp, 2);
      return { a, list: [b], map: new Map([['c', add(a, b)]]) };
    });
    expect(tmp!.disposed).toBe(true);
    expect(out.a.disposed || out.list[0].disposed || out.map.get('c')!.disposed).toBe(false);
    expect(x.disposed).toBe(false); // created outside: not the scope's to dispose
  });

  it('nests: a tensor returned from an inner scope belongs to the outer one', () => {
    let inner: Tensor | undefined;
    let kept: Tensor | undefined;
    const outer = scope(() => {
      inner = scope(() => {
        kept = keep(tensor([1]));
        tensor([2]);
        return tensor([3]);
      });
      expect(inner.disposed).toBe(false);
      return 42;
    });
    expect(outer).toBe(42);
    expect(inner!.disposed).toBe(true);
    expect(kept!.disposed).toBe(false);
  });

  it('disposes everything when fn throws, and rejects a Promise', () => {
    let t: Tensor | undefined;
    expect(() =>
      scope(() => {
        t = tensor([1]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t!.disposed).toBe(true);
    let u: Tensor | undefined;
    expect(() =>
      scope(() => {
        u = tensor([1]);
        return Promise.resolve(u);
      }),
    ).toThrow(/scope: fn returned a Promise; use scopeAsync/);
    expect(u!.disposed).toBe(true);
  });

  it('scopeAsync keeps the resolved result and disposes the rest', async () => {
    let tmp: Tensor | undefined;
    const r = await scopeAsync(async () => {
      tmp = tensor([1, 2]);
      const y = add(tmp, tmp);
      await Promise.resolve();
      return y;
    });
    expect(tmp!.disposed).toBe(true);
    expect(await r.array()).toEqual([2, 4]);
  });
});
