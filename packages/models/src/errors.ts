/**
 * @file One error type for model loading and running. The message names the file, field or weight,
 * what was expected and what was found; `code` lets callers branch without parsing text.
 */
export type ModelErrorCode =
  | 'file' // missing or unreadable file
  | 'config' // invalid config.json or unsupported architecture / option
  | 'dtype' // unsupported weight or input dtype
  | 'weights' // missing weight, shape mismatch between config and weights, or a NaN/Inf value
  | 'context' // more positions than the model (or the cache) allows
  | 'input' // bad forward() input
  | 'options'; // unknown key or invalid value in the options of a public function

export class ModelError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}
