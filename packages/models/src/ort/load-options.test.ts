import { describe, expect, it } from 'vitest';
import { ModelError } from '../errors';
import { fixtureDir } from '../testing';
import { OrtCausalLM } from './model';

describe('OrtCausalLM.load options are strict: an unknown key or a bad value names the field and what is allowed', () => {
  const dir = fixtureDir('code-draft', 'onnx/model.onnx');
  const loadError = (opts: unknown) =>
    OrtCausalLM.load(dir, opts as never).then(
      (m) => {
        m.dispose();
        return undefined;
      },
      (e) => e as ModelError,
    );

  it('rejects an unknown key, listing the allowed ones', async () => {
    const e = await loadError({ threads: 2 });
    expect(e).toBeInstanceOf(ModelError);
    expect([e!.code, e!.message]).toEqual([
      'options',
      'OrtCausalLM.load: options is invalid: Unrecognized key: "threads"; allowed: intraOpNumThreads, modelFile, graphOptimizationLevel',
    ]);
  });

  it('rejects bad values, naming the field and what is allowed', async () => {
    expect((await loadError({ graphOptimizationLevel: 'max' }))?.message).toBe(
      'OrtCausalLM.load: option \'graphOptimizationLevel\' is invalid: Invalid option: expected one of "disabled"|"basic"|"extended"|"all"',
    );
    expect((await loadError({ intraOpNumThreads: 1.5 }))?.message).toBe(
      "OrtCausalLM.load: option 'intraOpNumThreads' is invalid: Invalid input: expected int, received number",
    );
    expect((await loadError({ intraOpNumThreads: 0 }))?.message).toBe(
      "OrtCausalLM.load: option 'intraOpNumThreads' is invalid: Too small: expected number to be >0",
    );
  });
});
