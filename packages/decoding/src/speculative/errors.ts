/**
 * @file How the speculative functions fail: the package's DecodingError, code 'input' for bad data
 * (rows, token ids, trees) with a message that names the function and the field; bad options go
 * through the package's strict zod parse (code 'options').
 */
import { DecodingError } from '../errors';

export { parseOptions } from '../options';

export const inputError = (where: string, message: string) =>
  new DecodingError('input', `${where}: ${message}`);
