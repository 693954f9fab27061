// Runs `npx <args>` from the repository root the way a user's shell would: without the NODE_OPTIONS
// this test process may have inherited from npm, so whatever the command needs must come from the
// repository itself (the root .npmrc, the bins npm links).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface NpxResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function npx(args: string[], env: Record<string, string> = {}): Promise<NpxResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn('npx', args, { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
