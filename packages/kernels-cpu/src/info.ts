/**
 * @file cpuKernelsInfo(): what the native CPU kernels run here (for benchmark records and logs):
 * whether the addon is available (and why not), the ISA chosen and the ones the CPU has, the
 * thread setting.
 */
import { type CpuIsa, loadAddon } from './addon';
import { currentSettings, resolveIsa } from './options';

export interface CpuKernelsInfo {
  available: boolean;
  /** Why the addon is not available. */
  reason?: string;
  path?: string;
  /** The ISA products run with (forced, or the best available). */
  isa?: CpuIsa;
  isaForced?: boolean;
  isas?: CpuIsa[];
  threads: 'auto' | 1 | 2;
  twoThreadMinWeights: number;
  compiler?: string;
}

export function cpuKernelsInfo(): CpuKernelsInfo {
  const load = loadAddon();
  const s = currentSettings();
  const base = { threads: s.threads, twoThreadMinWeights: s.twoThreadMinWeights };
  if (!load.addon) return { available: false, reason: load.reason, ...base };
  const info = load.addon.info();
  return {
    available: true,
    path: load.path,
    isa: resolveIsa(s.isa),
    isaForced: s.isa !== 'auto',
    isas: info.isas,
    ...base,
    compiler: info.compiler,
  };
}
