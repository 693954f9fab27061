/**
 * @file One error type for bad tensor input: it names the op, the shapes involved and what was
 * expected, so a user can fix the call without reading our code.
 */
export class TensorError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'TensorError';
  }
}

export const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;
