/**
 * DecodeGraph's policy over a stand-in context: eager the first time a key is seen, captured the
 * second, replayed after; a new key starts over and destroys the old graph; a step that throws while
 * captured ends the capture. (Capture and replay themselves run only on a GPU.)
 */
import { describe, expect, it } from 'vitest';
import { CudaBackend } from './backend';
import { DecodeGraph } from './decode-graph';
import { FakeContext } from './fake-context';

function setup() {
  const ctx = new FakeContext();
  const backend = new CudaBackend(ctx, 'stand-in');
  const x = backend.empty('f32', [1, 8]);
  const y = backend.empty('f32', [1, 8]);
  const step = () => backend.softmax({ x, out: y });
  return { ctx, backend, graph: new DecodeGraph(backend), step };
}

describe('DecodeGraph', () => {
  it('runs eagerly, then captures, then replays while the key repeats', () => {
    const { ctx, graph, step } = setup();
    expect([
      graph.step('T=8', step),
      graph.step('T=8', step),
      graph.step('T=8', step),
      graph.step('T=8', step),
    ]).toEqual(['eager', 'captured', 'replayed', 'replayed']);
    expect(ctx.calls).toEqual([
      'launch softmax',
      'beginCapture',
      'launch softmax',
      'endCapture 3',
      'launchGraph 3',
      'launchGraph 3',
      'launchGraph 3',
    ]);
  });

  it('starts over on a new key and destroys the old graph', () => {
    const { ctx, graph, step } = setup();
    graph.step('a', step);
    graph.step('a', step);
    expect(graph.step('b', step)).toBe('eager');
    expect(ctx.calls).toContain('destroyGraph 3');
  });

  it('ends the capture when the step throws (e.g. allocating inside a capture) and rethrows', () => {
    const { ctx, backend, graph, step } = setup();
    graph.step('k', step);
    expect(() => graph.step('k', () => backend.empty('f32', [4]))).toThrow(
      /not allowed while a CUDA graph is being captured/,
    );
    expect(ctx.calls.slice(-2)).toEqual(['endCapture 3', 'destroyGraph 3']);
    expect(graph.step('k', step)).toBe('captured');
  });
});
