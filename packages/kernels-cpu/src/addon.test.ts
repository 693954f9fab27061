import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

// A fresh module graph per test: the addon is loaded (and cached) on first use.
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('without the addon', () => {
  it('reports "not built", never crashes, and registers nothing', async () => {
    vi.stubEnv('HASTEN_CPU_ADDON', '/nonexistent/hasten_cpu.node');
    const { isCpuAddonAvailable, registerCpuNative, cpuKernelsInfo, qgemvNative, NATIVE_BACKEND } =
      await import('./index');
    const { hasBackend } = await import('@hasten/core-tensor');
    expect(isCpuAddonAvailable()).toBe(false);
    const info = cpuKernelsInfo();
    expect(info.available).toBe(false);
    expect(info.reason).toMatch(/not built .*build:addon/);
    expect(() => registerCpuNative()).toThrow(/not built/);
    expect(hasBackend(NATIVE_BACKEND)).toBe(false);
    const w = { format: 'f32' as const, shape: [1, 1] as const, data: new Float32Array(1) };
    expect(() => qgemvNative(w, new Float32Array(1), 1)).toThrow(/not built/);
  });

  it('reports a file that fails to load, or is not this addon, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hasten-cpu-'));
    const garbage = join(dir, 'garbage.node');
    writeFileSync(garbage, 'not a shared object');
    vi.stubEnv('HASTEN_CPU_ADDON', garbage);
    let info = (await import('./index')).cpuKernelsInfo();
    expect(info.available).toBe(false);
    expect(info.reason).toMatch(/failed to load/);
    vi.resetModules();
    vi.stubEnv('HASTEN_CPU_ADDON', fileURLToPath(new URL('../package.json', import.meta.url)));
    info = (await import('./index')).cpuKernelsInfo();
    expect(info.reason).toMatch(/is not the Hasten CPU kernel addon/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects an unknown HASTEN_CPU_ISA, naming the variable and the allowed values', async () => {
    vi.stubEnv('HASTEN_CPU_ISA', 'sse9');
    const { cpuKernelsInfo } = await import('./index');
    expect(() => cpuKernelsInfo()).toThrow(/HASTEN_CPU_ISA.*isa/);
  });
});
