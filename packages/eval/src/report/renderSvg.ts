import type { TopLevelSpec } from 'vega-lite';

// Renders a Vega-Lite spec to an SVG string with Vega's headless renderer (no DOM or canvas needed, so
// the same code runs in Node and in a browser). vega and vega-lite are imported on first use, so code
// that only uses the metrics never loads them.

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
