/**
 * @file Align Your Steps presets (Sabour, Fidler, Kreis, arXiv 2404.14507): 10-step schedules
 * optimised for Stable Diffusion 1.5, SDXL and Stable Video Diffusion. Numbers from
 * huggingface/diffusers:src/diffusers/schedulers/scheduling_utils.py (`AysSchedules`). Other step
 * counts use the paper's log-linear interpolation (its project page's `loglinear_interp`): the
 * values, ascending, are interpolated linearly in log space over an even grid on [0, 1].
 */

export const AYS_SCHEDULES = {
  StableDiffusionTimesteps: [999, 850, 736, 645, 545, 455, 343, 233, 124, 24],
  StableDiffusionSigmas: [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.0],
  StableDiffusionXLTimesteps: [999, 845, 730, 587, 443, 310, 193, 116, 53, 13],
  StableDiffusionXLSigmas: [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.38, 0.234, 0.113, 0.0],
  StableDiffusionVideoSigmas: [700.0, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.0],
} as const satisfies Record<string, readonly number[]>;
export type AysPreset = keyof typeof AYS_SCHEDULES;

/** Log-linear interpolation of a descending positive schedule to `n` values (ends kept). */
export function loglinearInterp(values: readonly number[], n: number): Float64Array {
  if (!Number.isInteger(n) || n < 2) throw new Error(`loglinearInterp: n must be an integer ≥ 2, got ${n}`);
  const m = values.length;
  const ys = values
    .slice()
    .reverse()
    .map((v) => {
      if (!(v > 0)) throw new Error(`loglinearInterp: values must be positive, got ${v}`);
      return Math.log(v);
    });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = (i / (n - 1)) * (m - 1);
    const j = Math.min(Math.floor(x), m - 2);
    const w = x - j;
    out[n - 1 - i] = Math.exp((1 - w) * ys[j] + w * ys[j + 1]);
  }
  return out;
}

/**
 * An AYS schedule for `steps` inference steps: the preset itself at 10 steps, otherwise its
 * log-linear interpolation. Sigma presets keep their final 0 (length steps + 1); timestep presets
 * are rounded to integers.
 */
export function alignYourSteps(preset: AysPreset, steps: number): Float64Array {
  const values = AYS_SCHEDULES[preset] as readonly number[];
  const isSigmas = preset.endsWith('Sigmas');
  if (isSigmas) {
    const positive = values.slice(0, -1);
    const body = steps === positive.length ? Float64Array.from(positive) : loglinearInterp(positive, steps);
    const out = new Float64Array(steps + 1);
    out.set(body);
    return out;
  }
  if (steps === values.length) return Float64Array.from(values);
  return loglinearInterp(values, steps).map(Math.round);
}
