/**
 * @file Loading the native addon (build/Release/hasten_cpu.node, made by `npm run build:addon`, which
 * the package's install script runs in auto mode). Loading never throws: a missing or unloadable
 * addon is reported as `{ addon: null, reason }`, so `isCpuAddonAvailable()` answers false and the
 * WebAssembly kernels of the 'cpu' backend serve. Node-only, as @hasten/kernels-cuda.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Instruction sets the addon has kernels for, slowest first (codes of native/binding.cc). */
export const ISAS = ['scalar', 'avx2', 'avx512'] as const;
export type CpuIsa = (typeof ISAS)[number];
/** The integer-dot kernels: 'avx512' runs 'avx512vnni' where the CPU has VNNI, else 'avx2'. */
export type Int8DotKernel = 'scalar' | 'avx2' | 'avx512vnni';

export interface NativeCpuAddon {
  info(): {
    isas: CpuIsa[];
    best: CpuIsa;
    compiler?: string;
    maxThreads: number;
    /** The integer-dot kernel (dot 'int8') each available ISA runs. */
    int8Dot: Partial<Record<CpuIsa, Int8DotKernel>>;
  };
  /** y[m, n] = x[m, k] W^T; see native/binding.cc for the arguments. */
  qgemv(
    format: number,
    n: number,
    k: number,
    g: number,
    scaleF32: number,
    w: ArrayBufferView,
    scales: Uint8Array | null,
    zeros: Uint8Array | null,
    x: Float32Array,
    m: number,
    y: Float32Array,
    isa: number,
    threads: number,
    dot: number,
  ): void;
  /** f32 attention; see native/binding.cc and src/attention.ts for the arguments. */
  attend(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Uint8Array | null,
    out: Float32Array,
    params: Float64Array,
    isa: number,
  ): void;
  /** out = x · sigmoid(x) elementwise (contiguous, equal lengths). */
  silu(x: Float32Array, out: Float32Array): void;
}

export type AddonLoad = { addon: NativeCpuAddon; path: string } | { addon: null; reason: string };

/** Where the build script puts the addon; HASTEN_CPU_ADDON overrides it (a prebuilt one). */
export function addonPath(): string {
  // biome-ignore lint/complexity/useLiteralKeys: process.env is an index signature
  const override = process.env['HASTEN_CPU_ADDON'];
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/hasten_cpu.node', import.meta.url));
}

let cached: AddonLoad | undefined;

/** Load the addon once; never throws. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    cached = {
      addon: null,
      reason: `the CPU kernel addon is not built (${path} does not exist; run \`npm run build:addon -w @hasten/kernels-cpu\` on a machine with a C++ compiler)`,
    };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as Partial<NativeCpuAddon>;
    if (typeof addon.info !== 'function' || typeof addon.qgemv !== 'function') {
      cached = { addon: null, reason: `${path} is not the Hasten CPU kernel addon (no info() / qgemv())` };
    } else if (
      addon.info().int8Dot === undefined ||
      typeof addon.attend !== 'function' ||
      typeof addon.silu !== 'function'
    ) {
      cached = {
        addon: null,
        reason: `${path} is an older build of the CPU kernel addon (no int8 dot, attention or silu); rebuild it: npm run build:addon -w @hasten/kernels-cpu`,
      };
    } else cached = { addon: addon as NativeCpuAddon, path };
  } catch (e) {
    cached = {
      addon: null,
      reason: `the CPU kernel addon at ${path} failed to load: ${(e as Error).message}`,
    };
  }
  return cached;
}
