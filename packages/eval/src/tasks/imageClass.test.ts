import { describe, expect, it } from 'vitest';
import { evaluateTask } from './evaluateTask.js';
import { imageClassTask } from './imageClass.js';

// Stub classifier: an "image" is a number array; its logits put mass on the brightest pixel's index.
const stub = (img: number[]) => img.map((v) => 10 * v);

describe('image-class task', () => {
  const classes = ['A', 'B', 'C'];

  it('lays out items class-major with reproducible noise seeds', () => {
    const t = imageClassTask({ classes, perClass: 2, seed: 5, classifier: stub });
    expect(t.id).toBe('image-class@1');
    expect(t.items.map((i) => i.label)).toEqual(['A', 'A', 'B', 'B', 'C', 'C']);
    expect(imageClassTask({ classes, perClass: 2, seed: 5, classifier: stub }).items).toEqual(t.items);
    expect(new Set(t.items.map((i) => i.noiseSeed)).size).toBe(6);
  });

  it('passes when the classifier picks the requested class; scores its probability', async () => {
    const t = imageClassTask({ classes, perClass: 1, seed: 0, classifier: stub });
    const good = await t.check(t.items[1]!, [0, 1, 0]);
    expect(good.pass).toBe(true);
    const pB = Math.exp(10) / (Math.exp(10) + 2);
    expect(good.score).toBeCloseTo(pB, 12);
    const bad = await t.check(t.items[0]!, [0, 1, 0]);
    expect(bad).toMatchObject({ pass: false, details: { predicted: 'B' } });
    // A "generator" that draws the right class for A and C but not B.
    const ev = await evaluateTask(t, [
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
    ]);
    expect(ev.passRate).toBeCloseTo(2 / 3, 15);
  });

  it('accepts async classifiers returning probabilities, and validates their output', async () => {
    const t = imageClassTask({
      classes,
      perClass: 1,
      classifierOutput: 'probabilities',
      classifier: async (img: number[]) => img,
    });
    expect(await t.check(t.items[2]!, [0.1, 0.2, 0.7])).toMatchObject({ pass: true, score: 0.7 });
    await expect(t.check(t.items[0]!, [0.5, 0.5])).rejects.toThrow(/must have 3 entries/);
    expect(() => imageClassTask({ classes: ['only'], classifier: stub })).toThrow(/options\.classes/);
    expect(() => imageClassTask({ classes, classifier: 'nope' as unknown as typeof stub })).toThrow(
      /options\.classifier: must be a function/,
    );
  });
});
