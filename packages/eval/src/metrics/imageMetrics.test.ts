import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { mse } from './mse.js';
import { psnr } from './psnr.js';
import { ssim } from './ssim.js';

function image(w: number, h: number, f: (x: number, y: number, c: number) => number, channels = 1) {
  const data = new Float64Array(w * h * channels);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < channels; c++) data[(y * w + x) * channels + c] = f(x, y, c);
  return { data, width: w, height: h, channels };
}

describe('MSE and PSNR', () => {
  it('PSNR of an 8-bit image with every pixel off by 2 is 10 log10(255^2 / 4)', () => {
    const a = image(4, 4, (x, y) => 16 * x + y);
    const b = image(4, 4, (x, y) => 16 * x + y + ((x + y) % 2 === 0 ? 2 : -2));
    expect(mse(a.data, b.data)).toBe(4);
    expect(psnr(a.data, b.data, { dataRange: 255 })).toBeCloseTo(42.1102, 4);
    expect(psnr(a.data, a.data, { dataRange: 255 })).toBe(Infinity);
  });

  it('requires the data range', () => {
    expect(() => psnr([1], [2], {} as { dataRange: number })).toThrow(/options\.dataRange/);
    expect(() => mse([1, 2], [1])).toThrow(/b must have length 2/);
  });
});

describe('SSIM (Wang et al. 2004)', () => {
  const rng = createRng(5);
  const noisy = image(24, 20, () => rng.next(), 3);

  it('SSIM(x, x) = 1 for both windows and several channels', () => {
    expect(ssim(noisy, noisy, { dataRange: 1 })).toBeCloseTo(1, 12);
    expect(ssim(noisy, noisy, { dataRange: 1, window: 'uniform' })).toBeCloseTo(1, 12);
  });

  it('constant images offset by c: (2a(a+c) + C1) / (a^2 + (a+c)^2 + C1)', () => {
    const a = 0.3;
    const c = 0.2;
    const c1 = (0.01 * 1) ** 2;
    const expected = (2 * a * (a + c) + c1) / (a * a + (a + c) ** 2 + c1);
    const x = image(16, 16, () => a);
    const y = image(16, 16, () => a + c);
    expect(ssim(x, y, { dataRange: 1 })).toBeCloseTo(expected, 12);
    expect(ssim(x, y, { dataRange: 1, window: 'uniform' })).toBeCloseTo(expected, 12);
  });

  it('y = alpha x + c on a period-7 pattern matches the closed form (uniform 7x7, sample covariance)', () => {
    // Every 7x7 window sees each column value once per row, so all windows share mu, sigma.
    const v = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7, 0.3];
    const alpha = 0.6;
    const off = 0.15;
    const x = image(21, 14, (col) => v[col % 7]!);
    const y = image(21, 14, (col) => alpha * v[col % 7]! + off);
    const mu = v.reduce((s, t) => s + t, 0) / 7;
    const varPop = v.reduce((s, t) => s + (t - mu) ** 2, 0) / 7;
    const vx = (49 / 48) * varPop; // skimage's sample-covariance correction
    const muY = alpha * mu + off;
    const [c1, c2] = [(0.01 * 1) ** 2, (0.03 * 1) ** 2];
    const expected =
      ((2 * mu * muY + c1) * (2 * alpha * vx + c2)) /
      ((mu * mu + muY * muY + c1) * ((1 + alpha * alpha) * vx + c2));
    expect(ssim(x, y, { dataRange: 1, window: 'uniform' })).toBeCloseTo(expected, 12);
    expect(ssim(y, x, { dataRange: 1, window: 'uniform' })).toBeCloseTo(expected, 12);
  });

  it('matches skimage-style references computed with scipy.ndimage on a fixed image pair', () => {
    // x(i, j) and y(i, j) are closed-form, so the reference script rebuilds them exactly: in numpy,
    // filters from scipy.ndimage (gaussian_filter sigma 1.5 truncate 3.5 = the 11-tap window; or
    // uniform_filter size 7 with the 49/48 sample-covariance factor), the border cropped as
    // skimage.metrics.structural_similarity does. 8-bit: both images rounded to 0..255.
    const x = image(
      24,
      20,
      (j, i) => 0.5 + 0.3 * Math.sin(0.7 * i) * Math.cos(0.45 * j) + (0.1 * ((i * 7 + j * 13) % 11)) / 10,
    );
    const y = {
      ...x,
      data: x.data.map((v, k) => {
        const i = Math.floor(k / 24);
        const j = k % 24;
        return 0.8 * v + 0.1 + 0.08 * Math.sin(1.3 * i + 2.1 * j);
      }),
    };
    expect(ssim(x, y, { dataRange: 1 })).toBeCloseTo(0.8815466175927342, 12);
    expect(ssim(x, y, { dataRange: 1, window: 'uniform' })).toBeCloseTo(0.8982276617180006, 12);
    const to8 = (img: typeof x) => ({
      ...img,
      data: img.data.map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))),
    });
    const [x8, y8] = [to8(x), to8(y)];
    expect(ssim(x8, y8, { dataRange: 255 })).toBeCloseTo(0.881806176337246, 12);
    expect(mse(x8.data, y8.data)).toBeCloseTo(275.25625, 9);
    expect(psnr(x8.data, y8.data, { dataRange: 255 })).toBeCloseTo(23.73343171971821, 10);
  });

  it('falls as noise grows and reads CHW like HWC', () => {
    const base = image(32, 32, (x, y) => 0.5 + 0.4 * Math.sin(x / 3) * Math.cos(y / 4));
    const r = createRng(1);
    const withNoise = (s: number) => ({ ...base, data: base.data.map((v) => v + s * r.normal()) });
    const s1 = ssim(base, withNoise(0.02), { dataRange: 1 });
    const s2 = ssim(base, withNoise(0.1), { dataRange: 1 });
    expect(s1).toBeLessThan(1);
    expect(s2).toBeLessThan(s1);
    const chw = {
      data: new Float64Array(24 * 20 * 3),
      width: 24,
      height: 20,
      channels: 3,
      layout: 'chw' as const,
    };
    for (let i = 0; i < 24 * 20; i++)
      for (let c = 0; c < 3; c++) chw.data[c * 480 + i] = noisy.data[i * 3 + c]!;
    const other = image(24, 20, () => 0.5, 3);
    const otherChw = { ...other, layout: 'chw' as const };
    expect(ssim(chw, otherChw, { dataRange: 1 })).toBeCloseTo(ssim(noisy, other, { dataRange: 1 }), 12);
  });

  it('rejects images smaller than the window and even window sizes', () => {
    const tiny = image(8, 8, () => 0);
    expect(() => ssim(tiny, tiny, { dataRange: 1 })).toThrow(/smaller than the 11x11 window/);
    expect(() => ssim(tiny, tiny, { dataRange: 1, windowSize: 4 })).toThrow(/windowSize: must be odd/);
    expect(() =>
      ssim(
        tiny,
        image(8, 9, () => 0),
        { dataRange: 1 },
      ),
    ).toThrow(/b\.height must equal a\.height/);
  });
});
