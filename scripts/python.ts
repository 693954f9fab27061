/**
 * The Python interpreter for the repo's export tools (tools/fixtures/): $HASTEN_PYTHON, else Debian's
 * /usr/bin/python3 (the `python3` first on PATH may be another one without the Debian packages; see
 * tools/fixtures/README.md), else `python3`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function findPython(explicit?: string): string {
  if (explicit) return explicit;
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a user override read by scripts, not by turbo tasks
  const override = process.env.HASTEN_PYTHON;
  if (override) return override;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The modules of `modules` that `python` cannot import (all of them when it does not run). */
export function missingPythonModules(python: string, modules: readonly string[]): string[] {
  return modules.filter((m) => spawnSync(python, ['-c', `import ${m}`], { stdio: 'ignore' }).status !== 0);
}

/** Debian packages that provide the modules the exporter needs. */
export const DEBIAN_PACKAGES: Record<string, string> = { numpy: 'python3-numpy', onnx: 'python3-onnx' };
