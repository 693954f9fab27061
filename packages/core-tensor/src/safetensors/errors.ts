/**
 * @file The error every safetensors reader and writer throws: it names the file (when known), the
 * tensor (when one is at fault) and the problem.
 */
export class SafetensorsError extends Error {
  constructor(file: string | undefined, message: string, tensor?: string) {
    const where = file === undefined ? 'safetensors' : `safetensors '${file}'`;
    super(`${where}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${message}`);
    this.name = 'SafetensorsError';
  }
}
