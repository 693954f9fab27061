/**
 * @file How @hasten/decoding rejects a bad options object. Schemas are strict (`z.strictObject`): a
 * misspelt key is an error that names it and lists the keys the object allows, and a bad value names
 * the field and zod's statement of the allowed range or values (the format of every package).
 */
import { parseOptionsWith } from '@hasten/core-tensor';
import type { z } from 'zod';
import { DecodingError } from './errors';

/**
 * Parses the options of a public entry point (undefined means `{}`) with core-tensor's strict parse.
 * Throws DecodingError('options'): "<where>: option 'a.b' is invalid: why" or "<where>: options is
 * invalid: Unrecognized key: "k"; allowed: ...".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new DecodingError('options', `${where}: ${problem}`));
}

/** Throws DecodingError('options') "<where>: option '<field>' must be <allowed>, got <value>" unless ok. */
export function requireOption(
  ok: boolean,
  where: string,
  field: string,
  allowed: string,
  got: unknown,
): void {
  if (!ok) {
    const shown = typeof got === 'number' || typeof got === 'string' ? String(got) : JSON.stringify(got);
    throw new DecodingError('options', `${where}: option '${field}' must be ${allowed}, got ${shown}`);
  }
}
