import { DOMParser, type Element } from '@xmldom/xmldom';

// Test helper (not exported from the package): parses an SVG string with @xmldom/xmldom, a W3C DOM
// parser, in strict mode (any warning or error throws), and reads back what Vega drew: the text
// content of every <text>, and each data mark (bars, points, lines, ...) with the fields of every item.
// Vega writes each item's data into its aria-label ("field: value; field: value"), so a test can check
// that the plotted series, point by point, is in the picture.

export interface SvgMark {
  /** Vega mark type: rect (bars), symbol (points), line, rule, text, ... */
  type: string;
  /** Vega's name for the mark, e.g. "layer_0_marks". */
  name: string;
  /** One record per drawn item: its aria-label split into fields. */
  items: Record<string, string>[];
}

export interface ParsedSvg {
  root: string;
  texts: string[];
  marks: SvgMark[];
}

export function parseSvg(svg: string): ParsedSvg {
  const doc = new DOMParser({
    onError: (level, message) => {
      throw new Error(`SVG ${level}: ${message}`);
    },
  }).parseFromString(svg, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root) throw new Error('SVG has no root element');
  const texts = Array.from(root.getElementsByTagName('text'))
    .map((t) => t.textContent ?? '')
    .filter((t) => t.trim().length > 0);
  const marks: SvgMark[] = [];
  for (const g of Array.from(root.getElementsByTagName('g'))) {
    const classes = (g.getAttribute('class') ?? '').split(/\s+/);
    if (!classes.includes('role-mark')) continue;
    const type = classes.find((c) => c.startsWith('mark-'))?.slice('mark-'.length) ?? '';
    const name = classes.find((c) => c !== `mark-${type}` && c !== 'role-mark') ?? '';
    const items: Record<string, string>[] = [];
    for (const child of Array.from(g.childNodes)) {
      if (child.nodeType !== child.ELEMENT_NODE) continue;
      const label = (child as Element).getAttribute('aria-label');
      if (label) items.push(labelFields(label));
    }
    marks.push({ type, name, items });
  }
  return { root: root.tagName, texts, marks };
}

function labelFields(label: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of label.split('; ')) {
    const i = part.indexOf(': ');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 2);
  }
  return out;
}
