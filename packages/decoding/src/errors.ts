/**
 * @file One error type for decoding. The message names the option, row or token, what was allowed
 * and what was found; `code` lets callers branch without parsing text.
 */
export type DecodingErrorCode =
  | 'options' // unknown key or invalid value in the options of a public function
  | 'input' // a prompt, token id or seed that does not fit the model or the batch
  | 'context' // prompt + new tokens exceed the model's context length
  | 'logits' // the model returned NaN / +Infinity, or the processors masked every token
  | 'processor'; // a logits processor was used outside what it supports

export class DecodingError extends Error {
  constructor(
    readonly code: DecodingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecodingError';
  }
}
