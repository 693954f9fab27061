/**
 * @file How core-tensor rejects a bad options object. Options schemas are strict (`z.strictObject`),
 * so a misspelt key is an error rather than a silently ignored setting; zod's message names only the
 * unknown key, so the error map below adds the keys the object allows.
 */
import type { z } from 'zod';

/**
 * A zod error map (`schema.safeParse(v, { error: listAllowedKeys })`): an unknown key's message also
 * lists the allowed keys of the object it was found in (nested objects included); other issues keep
 * zod's message, which already names what is allowed (enum values, bounds, types).
 */
export const listAllowedKeys: z.core.$ZodErrorMap = (iss) => {
  if (iss.code !== 'unrecognized_keys') return undefined;
  const def = iss.inst?._zod.def as { shape?: Record<string, unknown> } | undefined;
  const quoted = iss.keys.map((k) => `"${k}"`).join(', ');
  const allowed = def?.shape ? Object.keys(def.shape).join(', ') : '';
  return `Unrecognized key${iss.keys.length > 1 ? 's' : ''}: ${quoted}${allowed ? `; allowed: ${allowed}` : ''}`;
};

/** The first issue of a failed parse as "option 'a.b' is invalid: why" or "options is invalid: why". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.length ? `option '${issue.path.map(String).join('.')}'` : 'options';
  return `${field} is invalid: ${issue.message}`;
}

/** Parse `value` (undefined means `{}`); on failure throw `toError(describeIssue(...))`. */
export function parseOptionsWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  toError: (problem: string) => Error,
): z.output<S> {
  const r = schema.safeParse(value ?? {}, { error: listAllowedKeys });
  if (!r.success) throw toError(describeIssue(r.error));
  return r.data;
}
