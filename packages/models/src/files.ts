/**
 * @file Node-only file helpers with clear errors: a missing or unreadable file names its path and
 * what it was needed for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ModelError } from './errors';

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new ModelError('file', `${path}: not found (${what})`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelError('file', `${path}: cannot be read (${what}): ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelError('file', `${path}: is not valid JSON (${what}): ${(e as Error).message}`);
  }
}

export function requireDir(dir: string, what: string): void {
  if (!existsSync(dir)) throw new ModelError('file', `${dir}: folder not found (${what})`);
}
