/**
 * The committed quantized-product binaries (qgemv-wasm.generated.ts) must be what
 * scripts/build-wasm.mjs makes from wasm/qgemv.ts (as gemm-wasm.test.ts checks for the GEMM).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QGEMV_WASM, QGEMV_WASM_SOURCE_SHA256 } from './qgemv-wasm.generated';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe('generated quantized-product WebAssembly module', () => {
  it('was generated from the current kernel source', () => {
    const source = readFileSync(fileURLToPath(new URL('./wasm/qgemv.ts', import.meta.url)));
    expect(sha256(source)).toBe(QGEMV_WASM_SOURCE_SHA256);
  });

  it('embeds the binaries it records, each small enough for synchronous compilation', () => {
    for (const [name, v] of Object.entries(QGEMV_WASM)) {
      const b = bytes(v.base64);
      expect(sha256(b), name).toBe(v.sha256);
      expect(b.length, name).toBeLessThan(4096);
      if (WebAssembly.validate(b)) {
        expect(
          WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name),
          name,
        ).toEqual(['qgemv']);
      } else expect(name).toBe('relaxed');
    }
  });

  it('reproduces the plain SIMD binary from source', async () => {
    // @ts-expect-error -- build script is plain JavaScript
    const { compileVariant, QGEMV_VARIANTS, QGEMV_SOURCE } = await import('../../../scripts/build-wasm.mjs');
    const fresh: Uint8Array = await compileVariant(QGEMV_VARIANTS.simd, QGEMV_SOURCE);
    expect(sha256(fresh)).toBe(QGEMV_WASM.simd.sha256);
  }, 120_000);
});
