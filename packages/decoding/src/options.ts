/**
 * @file How @hasten/decoding rejects a bad options object. Schemas are strict (`z.strictObject`): a
 * misspelt key is an error that names it and lists the keys the object allows, and a bad value names
 * the field and zod's statement of the allowed range or values.
 */
import type { z } from 'zod';
import { DecodingError } from './errors';

/** zod error map: an unknown key's message also lists the allowed keys of its object. */
const listAllowedKeys: z.core.$ZodErrorMap = (iss) => {
  if (iss.code !== 'unrecognized_keys') return undefined;
  const def = iss.inst?._zod.def as { shape?: Record<string, unknown> } | undefined;
  const quoted = iss.keys.map((k) => `'${k}'`).join(', ');
  const allowed = def?.shape ? Object.keys(def.shape).join(', ') : '';
  return `unknown option${iss.keys.length > 1 ? 's' : ''} ${quoted}${allowed ? ` (allowed: ${allowed})` : ''}`;
};

/**
 * Parses the options of a public entry point (undefined means `{}`). Throws DecodingError('options'):
 * "<where>: option 'a.b' is invalid: why" or "<where>: options are invalid: why".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value ?? {}, { error: listAllowedKeys });
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return issue.code === 'unrecognized_keys' || !path
      ? `${path ? `option '${path}': ` : ''}${issue.message}`
      : `option '${path}' is invalid: ${issue.message}`;
  });
  throw new DecodingError('options', `${where}: ${lines.join('; ')}`);
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
