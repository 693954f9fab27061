import { z } from 'zod';
import { fail, parseOptions } from '../util/check.js';
import { fnv1a } from '../util/fingerprint.js';
import { createRng } from '../util/seededRng.js';
import { type CheckResult, type Task, type TaskItem, taskId } from './task.js';

// Class-conditional image generation judged by a classifier: for each item the generator is asked for an
// image of `label` (with the item's noise seed); the checker runs the given classifier on the image. Pass
// = the classifier's argmax is the requested class; score = its probability of that class (the
// "classifier accuracy / confidence" used as a conditional-generation quality signal and as the
// verifier in test-time search for diffusion, Ma et al. arXiv 2501.09732).
// STATUS: waiting for the glyph fixtures. The real judge is the glyph classifier (models package), which
// does not exist yet, so no image-class score can be produced today: the task's mechanics (item layout,
// seeds, checking against whatever classifier is passed in) are tested with a stub only. Until the
// fixture lands, nothing in the repository reports an image-class result.
// Version 1: items are class-major (perClass items of class 0, then class 1, ...), noise seeds drawn
// from the task seed.

export const IMAGE_CLASS_VERSION = 1;

/** Returns logits (default) or probabilities over the classes for one image. */
export type Classifier<Image> = (image: Image) => ArrayLike<number> | Promise<ArrayLike<number>>;

const imageOptions = z
  .object({
    classes: z.array(z.string().min(1)).min(2),
    perClass: z.number().int().min(1).default(8),
    seed: z.number().int().default(0),
    classifierOutput: z.enum(['logits', 'probabilities']).default('logits'),
    classifier: z.custom<Classifier<unknown>>((v) => typeof v === 'function', {
      message: 'must be a function',
    }),
  })
  .strict();
export type ImageClassOptions<Image> = Omit<z.input<typeof imageOptions>, 'classifier'> & {
  classifier: Classifier<Image>;
};

export interface ImageClassItem extends TaskItem {
  classIndex: number;
  label: string;
  /** Seed for the generator's initial noise, so a run is reproducible. */
  noiseSeed: number;
}

export function imageClassTask<Image>(options: ImageClassOptions<Image>): Task<ImageClassItem, Image> {
  const opts = parseOptions(imageOptions, options, 'imageClassTask');
  const classifier = options.classifier;
  const rng = createRng(opts.seed);
  const id = taskId('image-class', IMAGE_CLASS_VERSION);
  const items: ImageClassItem[] = [];
  opts.classes.forEach((label, classIndex) => {
    for (let k = 0; k < opts.perClass; k++) {
      items.push({
        id: `${id}/s${opts.seed}/${items.length}`,
        classIndex,
        label,
        noiseSeed: rng.nextUint32(),
      });
    }
  });
  const check = async (item: ImageClassItem, image: Image): Promise<CheckResult> => {
    const out = await classifier(image);
    if (out?.length !== opts.classes.length) {
      fail(
        'imageClassTask',
        'classifier output',
        `must have ${opts.classes.length} entries (got ${out?.length})`,
      );
    }
    const probs = opts.classifierOutput === 'logits' ? softmax(out) : Array.from(out);
    let best = 0;
    for (let i = 0; i < probs.length; i++) {
      if (!Number.isFinite(probs[i]!))
        fail('imageClassTask', `classifier output[${i}]`, `is not finite (${out[i]})`);
      if (probs[i]! > probs[best]!) best = i;
    }
    const p = probs[item.classIndex]!;
    return {
      pass: best === item.classIndex,
      score: p,
      details: { predicted: opts.classes[best]!, probability: p },
    };
  };
  return {
    id,
    name: 'image-class',
    version: IMAGE_CLASS_VERSION,
    seed: opts.seed,
    fingerprint: fnv1a([JSON.stringify({ ...opts, classifier: undefined })]),
    items,
    check,
  };
}

function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
