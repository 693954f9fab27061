/**
 * @file cpuKernelsInfo(): what the native CPU kernels run here (for benchmark records and logs):
 * whether the addon is available (and why not), the ISA chosen and the ones the CPU has, the
 * thread and dot settings, and the integer-dot kernel the chosen ISA runs.
 */
import { type CpuIsa, type Int8DotKernel, loadAddon } from './addon';
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
  /** 'float', or 'int8': x rounded to int8 per block of 32 for the integer weight formats. */
  dot: 'float' | 'int8';
  /** The integer-dot kernel the chosen ISA runs (used when dot is 'int8'). */
  int8DotKernel?: Int8DotKernel;
  compiler?: string;
}

export function cpuKernelsInfo(): CpuKernelsInfo {
  const load = loadAddon();
  const s = currentSettings();
  const base = { threads: s.threads, twoThreadMinWeights: s.twoThreadMinWeights, dot: s.dot };
  if (!load.addon) return { available: false, reason: load.reason, ...base };
  const info = load.addon.info();
  const isa = resolveIsa(s.isa);
  return {
    available: true,
    path: load.path,
    isa,
    int8DotKernel: info.int8Dot[isa],
    isaForced: s.isa !== 'auto',
    isas: info.isas,
    ...base,
    compiler: info.compiler,
  };
}
