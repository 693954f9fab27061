/**
 * The CI side of the build: every CUDA source compiles with nvcc for sm_90 (the H100/H200 the GPU
 * sessions use), and the auto / never / force contract of scripts/build-addon.mjs. The compile test
 * skips, saying so, only where nvcc is absent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const script = join(pkg, 'scripts', 'build-addon.mjs');
const kernels = readdirSync(join(pkg, 'native', 'kernels')).filter((f) => f.endsWith('.cu'));

function findNvcc(): string | null {
  const dirs = [
    process.env.HASTEN_NVCC ? '' : null,
    ...(process.env.PATH ?? '').split(':'),
    '/usr/local/cuda/bin',
  ];
  if (process.env.HASTEN_NVCC) return existsSync(process.env.HASTEN_NVCC) ? process.env.HASTEN_NVCC : null;
  for (const d of dirs) if (d && existsSync(join(d, 'nvcc'))) return join(d, 'nvcc');
  return null;
}
const nvcc = findNvcc();

function build(env: Record<string, string>, args: string[] = []) {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The archs the objects under `out` were built for (build-addon.mjs's flags.txt), if any. */
function archsOf(out: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(out, 'obj', 'flags.txt'), 'utf8')) as { archs: string }).archs;
  } catch {
    return null;
  }
}

/** build/ when its objects include sm_90 and are newer than every source (so nothing recompiles). */
function upToDateBuild(): string | null {
  const out = join(pkg, 'build');
  const archs = archsOf(out);
  if (!archs?.split(/[;,\s]+/).includes('90')) return null;
  const native = join(pkg, 'native');
  const sources = [
    ...readdirSync(native)
      .filter((f) => /\.(cuh|h|cc)$/.test(f))
      .map((f) => join(native, f)),
    ...kernels.map((k) => join(native, 'kernels', k)),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  const objs = [...kernels.map((k) => `kernels_${k.replace('.cu', '_cu')}.o`), 'binding_cc.o'].map((o) =>
    join(out, 'obj', o),
  );
  return objs.every((o) => existsSync(o) && statSync(o).mtimeMs > newest) ? out : null;
}

const tmp = mkdtempSync(join(tmpdir(), 'hasten-cuda-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!nvcc)(
  `every CUDA source compiles for sm_90 (nvcc: ${nvcc ?? 'absent, so this is skipped'})`,
  () => {
    it('compiles each native/kernels/*.cu and the binding into an object with sm_90 code', {
      timeout: 900_000,
    }, () => {
      expect(kernels.length).toBeGreaterThanOrEqual(9);
      // Reuse `npm run build:addon`'s objects when they are newer than every source and were built
      // for sm_90; otherwise compile here (a few minutes on 2 cores).
      const out = upToDateBuild() ?? join(tmp, 'compile');
      const r = build({ HASTEN_CUDA_BUILD: 'force' }, [
        '--compile-only',
        '--archs',
        archsOf(out) ?? '90',
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.code, r.out).toBe(0);
      const { objects } = JSON.parse(r.out.trim().split('\n').pop() as string) as {
        objects: Record<string, string>;
      };
      for (const k of kernels) {
        const obj = objects[`kernels/${k}`];
        expect(obj, `no object for ${k}`).toBeDefined();
        expect(statSync(obj).size).toBeGreaterThan(0);
        // The embedded cubin records the target it was assembled for.
        expect(readFileSync(obj).includes('sm_90'), `${k} has no sm_90 code`).toBe(true);
      }
      expect(statSync(objects['binding.cc']).size).toBeGreaterThan(0);
    });
  },
);

describe('build contract (HASTEN_CUDA_BUILD)', () => {
  it('never: skips with one line and succeeds', () => {
    const r = build({ HASTEN_CUDA_BUILD: 'never' });
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toMatch(/skipped \(HASTEN_CUDA_BUILD=never\)/);
  });

  it('auto without nvcc: one notice line and success', () => {
    const r = build({ HASTEN_CUDA_BUILD: 'auto', HASTEN_NVCC: join(tmp, 'no-such-nvcc') }, [
      '--out',
      join(tmp, 'auto'),
    ]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toMatch(/CUDA addon not built \(nvcc was not found/);
    expect(existsSync(join(tmp, 'auto', 'Release', 'hasten_cuda.node'))).toBe(false);
  });

  it('force without nvcc: fails loudly', () => {
    const r = build({ HASTEN_CUDA_BUILD: 'force', HASTEN_NVCC: join(tmp, 'no-such-nvcc') }, [
      '--out',
      join(tmp, 'force'),
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/HASTEN_CUDA_BUILD=force but the addon was not built: nvcc was not found/);
  });

  it('rejects an unknown mode, naming the allowed ones', () => {
    const r = build({ HASTEN_CUDA_BUILD: 'sometimes' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/HASTEN_CUDA_BUILD='sometimes' is not allowed; use auto, never or force/);
  });

  it.skipIf(!nvcc)('force with a bad arch list fails with the reason', () => {
    const r = build({ HASTEN_CUDA_BUILD: 'force', HASTEN_CUDA_ARCHS: 'hopper' }, [
      '--out',
      join(tmp, 'arch'),
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/HASTEN_CUDA_ARCHS entry 'hopper' is not like 80 or 90/);
  });
});

// Keep the binding's compile flags honest: nvcc must accept the version query the build records.
describe.skipIf(!nvcc)('nvcc', () => {
  it('reports a CUDA release', () => {
    expect(execFileSync(nvcc as string, ['--version'], { encoding: 'utf8' })).toMatch(/release \d+\.\d+/);
  });
});
