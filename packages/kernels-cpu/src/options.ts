/**
 * @file The settings of the native CPU kernels: which instruction set runs (the best one the CPU
 * has, unless forced: `isa` here or the HASTEN_CPU_ISA environment variable) and how many threads:
 * 1 (the default, as core-tensor's matmul, whose threads are opt-in too), 2, or 'auto' (2 when the
 * weight has at least `twoThreadMinWeights` N·K entries, below which waking the helper thread costs
 * more than half the product); and the dot product of the integer weight formats: 'float' (the
 * default: each weight block decoded to f32 and dotted with x in f32) or 'int8' (x rounded to int8
 * per block of 32 once per call, exact integer dot products per weight block, as llama.cpp's Q8_0
 * activations, for every integer weight format; src/int8-dot-reference.ts states the semantics).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { type CpuIsa, ISAS, loadAddon } from './addon';

export const CpuKernelsOptionsSchema = z.strictObject({
  isa: z.enum(['auto', ...ISAS]).optional(),
  threads: z.union([z.literal('auto'), z.literal(1), z.literal(2)]).optional(),
  twoThreadMinWeights: z.number().int().nonnegative().optional(),
  dot: z.enum(['float', 'int8']).optional(),
});
export type CpuKernelsOptions = z.input<typeof CpuKernelsOptionsSchema>;

/** Default threshold of threads: 'auto', in weights (N·K). */
export const TWO_THREAD_MIN_WEIGHTS = 1 << 18;

interface Settings {
  isa: 'auto' | CpuIsa;
  threads: 'auto' | 1 | 2;
  twoThreadMinWeights: number;
  dot: 'float' | 'int8';
}

function fromEnv(): Settings {
  // biome-ignore lint/complexity/useLiteralKeys: process.env is an index signature
  const env = process.env['HASTEN_CPU_ISA'];
  const isa = env ? parseOptions('HASTEN_CPU_ISA', { isa: env }).isa : undefined;
  return { isa: isa ?? 'auto', threads: 1, twoThreadMinWeights: TWO_THREAD_MIN_WEIGHTS, dot: 'float' };
}

export function parseOptions(where: string, options: unknown): CpuKernelsOptions {
  return parseOptionsWith(CpuKernelsOptionsSchema, options, (p) => new TensorError(where, p));
}

let settings: Settings | undefined;

export function currentSettings(): Settings {
  settings ??= fromEnv();
  return settings;
}

/** Change the settings (unset fields keep their values); throws naming a bad field or an ISA this CPU lacks. */
export function configureCpuKernels(options: CpuKernelsOptions): void {
  const o = parseOptions('configureCpuKernels', options);
  if (o.isa && o.isa !== 'auto') checkIsa('configureCpuKernels', o.isa);
  const s = currentSettings();
  settings = {
    isa: o.isa ?? s.isa,
    threads: o.threads ?? s.threads,
    twoThreadMinWeights: o.twoThreadMinWeights ?? s.twoThreadMinWeights,
    dot: o.dot ?? s.dot,
  };
}

/** Throws unless the addon is loaded and this CPU runs `isa`. */
export function checkIsa(where: string, isa: CpuIsa): void {
  const load = loadAddon();
  if (!load.addon) throw new TensorError(where, load.reason);
  const have = load.addon.info().isas;
  if (!have.includes(isa))
    throw new TensorError(
      where,
      `'isa' is '${isa}', which this CPU does not run; available: ${have.join(', ')}`,
    );
}

/** The ISA a call runs: the forced one, else the best the CPU has. */
export function resolveIsa(isa: 'auto' | CpuIsa): CpuIsa {
  if (isa !== 'auto') return isa;
  if (bestIsa === undefined) {
    const load = loadAddon(); // asked once: info() builds a new object on every call
    bestIsa = load.addon ? load.addon.info().best : 'scalar';
  }
  return bestIsa;
}
let bestIsa: CpuIsa | undefined;

/** Threads for a product of an [N, K] weight. */
export function resolveThreads(threads: 'auto' | 1 | 2, n: number, k: number, minWeights: number): 1 | 2 {
  if (threads !== 'auto') return threads;
  return n >= 32 && n * k >= minWeights ? 2 : 1;
}
