import { describe, expect, it } from 'vitest';
import { roundHalfEven, spacedTimesteps } from './spacing';

describe('timestep spacing', () => {
  it("matches Lin et al. Table 2 (1-based there) and diffusers' families", () => {
    expect([...spacedTimesteps('linspace', 1000, 10, { family: 'ddim' })]).toEqual([
      999, 888, 777, 666, 555, 444, 333, 222, 111, 0,
    ]);
    expect([...spacedTimesteps('leading', 1000, 10, { family: 'ddim' })]).toEqual([
      900, 800, 700, 600, 500, 400, 300, 200, 100, 0,
    ]);
    expect([...spacedTimesteps('trailing', 1000, 10, { family: 'ddim' })]).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
    const eu = spacedTimesteps('linspace', 1000, 4, { family: 'euler' });
    expect([...eu]).toEqual([999, 666, 333, 0]);
    expect([...spacedTimesteps('linspace', 1000, 3, { family: 'euler' })]).toEqual([999, 499.5, 0]);
    expect([...spacedTimesteps('linspace', 1000, 10, { family: 'multistep' })]).toEqual([
      999, 899, 799, 699, 599, 500, 400, 300, 200, 100,
    ]);
    expect([...spacedTimesteps('trailing', 1000, 3, { family: 'ddim' })]).toEqual([999, 666, 332]);
  });

  it('rounds half to even as numpy does', () => {
    expect([0.5, 1.5, 2.5, 499.5, -0.5, 2.4999].map(roundHalfEven)).toEqual([0, 2, 2, 500, 0, 2]);
  });
});

describe('spacedTimesteps options', () => {
  it('rejects an unknown family or key and a bad step count', () => {
    expect(() => spacedTimesteps('linspace', 1000, 10, { family: 'dpm' } as never)).toThrow(/family/);
    expect(() => spacedTimesteps('linspace', 1000, 10, { family: 'ddim', offset: 1 } as never)).toThrow(
      /offset.*allowed/,
    );
    expect(() => spacedTimesteps('linspace', 1000, 0, { family: 'ddim' })).toThrow(/positive integer/);
  });
});
