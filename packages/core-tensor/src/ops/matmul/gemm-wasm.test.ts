/**
 * The committed WebAssembly binaries (gemm-wasm.generated.ts) must be what scripts/build-wasm.mjs
 * makes from wasm/gemm.ts: the recorded source hash must match the source (edit the kernel, forget
 * `npm run build:wasm`, and this fails), the recorded binary hashes must match the embedded bytes,
 * and a fresh compile of one variant must reproduce its bytes exactly (the build is deterministic).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GEMM_WASM, GEMM_WASM_SOURCE_SHA256 } from './gemm-wasm.generated';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('generated GEMM WebAssembly module', () => {
  it('was generated from the current kernel source', () => {
    const source = readFileSync(fileURLToPath(new URL('./wasm/gemm.ts', import.meta.url)));
    expect(sha256(source)).toBe(GEMM_WASM_SOURCE_SHA256);
  });

  it('embeds the binaries it records, each small enough for synchronous compilation', () => {
    for (const [name, v] of Object.entries(GEMM_WASM)) {
      const b = bytes(v.base64);
      expect(sha256(b), name).toBe(v.sha256);
      expect(b.length, name).toBeLessThan(4096); // browsers refuse sync compiles above 4 KiB on the main thread
      // Relaxed SIMD needs Node 22+ (or a V8 flag on Node 20): compile only what this engine runs.
      if (WebAssembly.validate(b)) {
        expect(
          WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name),
          name,
        ).toEqual(['gemm']);
      } else expect(name).toMatch(/^relaxed/);
    }
  });

  it('reproduces the plain SIMD binary from source', async () => {
    // @ts-expect-error -- build script is plain JavaScript
    const { compileVariant, VARIANTS } = await import('../../../scripts/build-wasm.mjs');
    const fresh: Uint8Array = await compileVariant(VARIANTS.simd);
    expect(sha256(fresh)).toBe(GEMM_WASM.simd.sha256);
  }, 120_000); // one AssemblyScript compile: ~2 s alone, several times that on a busy machine
});
