import { describe, expect, it } from 'vitest';
import { SyntheticLM } from '../testing';
import { processorsFromOptions } from './from-options';

describe('processorsFromOptions', () => {
  it('builds nothing from no options', () => {
    expect(processorsFromOptions()).toEqual([]);
    expect(processorsFromOptions({ temperature: 1, topP: 1, repetitionPenalty: 1 })).toEqual([]);
  });

  it('orders the chain: contrastive, penalties, bans and bias, custom, temperature, filters', () => {
    const custom = { name: 'custom', process() {} };
    const chain = processorsFromOptions({
      typicalP: 0.9,
      minP: 0.05,
      topP: 0.9,
      topK: 10,
      temperature: 0.7,
      processors: [custom],
      logitBias: { 3: 1 },
      suppressTokens: [1],
      minNewTokens: 2,
      stopTokens: [0],
      noRepeatNgramSize: 3,
      presencePenalty: 0.1,
      repetitionPenalty: 1.2,
      contrastive: { model: new SyntheticLM(4, () => [0, 0, 0, 0]) },
    });
    expect(chain.map((p) => p.name)).toEqual([
      'contrastive',
      'repetition-penalty',
      'frequency-presence-penalty',
      'no-repeat-ngram',
      'min-new-tokens',
      'suppress-tokens',
      'logit-bias',
      'custom',
      'temperature',
      'top-k',
      'top-p',
      'min-p',
      'typical-p',
    ]);
  });

  it('names an unknown key and lists the allowed ones', () => {
    expect(() => processorsFromOptions({ top_p: 0.9 } as never)).toThrow(
      /Unrecognized key: "top_p"; allowed: temperature, topK, topP, .*stopTokens/,
    );
  });

  it('names a bad value and its allowed range', () => {
    expect(() => processorsFromOptions({ topP: 1.5 })).toThrow(/option 'topP' is invalid: .*<=1/);
    expect(() => processorsFromOptions({ frequencyPenalty: -3 })).toThrow(
      /option 'frequencyPenalty' is invalid: .*>=-2/,
    );
    expect(() => processorsFromOptions({ logitBias: { 3: 200 } })).toThrow(
      /option 'logitBias.3' is invalid: .*<=100/,
    );
    expect(() => processorsFromOptions({ topK: 0 })).toThrow(/option 'topK' is invalid: .*>=1/);
  });
});
