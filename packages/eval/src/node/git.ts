import { execFileSync } from 'node:child_process';

// Git lookups that fail gracefully: outside a repository, without commits, or without git on the PATH
// they return null instead of throwing, because a benchmark must still run there.

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync('git', args, {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
      encoding: 'utf8',
    });
  } catch {
    return null;
  }
}

export function gitCommit(cwd: string): string | null {
  return git(['rev-parse', 'HEAD'], cwd)?.trim() || null;
}

/** True when tracked files have uncommitted changes; null when unknown. */
export function gitDirty(cwd: string): boolean | null {
  const out = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return out === null ? null : out.trim().length > 0;
}

/** A file's content at a revision (`git show REV:path`), or null when it is not there. */
export function gitShow(rev: string, repoRelativePath: string, cwd: string): string | null {
  return git(['show', `${rev}:${repoRelativePath.split('\\').join('/')}`], cwd);
}
