// Human-readable figures for tables: times with an adaptive unit, 3 significant digits.

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${sig(ms / 1000)} s`;
  if (abs >= 1) return `${sig(ms)} ms`;
  if (abs >= 1e-3) return `${sig(ms * 1e3)} µs`;
  return `${sig(ms * 1e6)} ns`;
}

export function sig(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '-∞' : 'NaN';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10 ** digits || abs < 1e-3) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export function formatRate(perSecond: number, unit: string): string {
  const abs = Math.abs(perSecond);
  if (abs >= 1e9) return `${sig(perSecond / 1e9)} G${unit}/s`;
  if (abs >= 1e6) return `${sig(perSecond / 1e6)} M${unit}/s`;
  if (abs >= 1e3) return `${sig(perSecond / 1e3)} k${unit}/s`;
  return `${sig(perSecond)} ${unit}/s`;
}
