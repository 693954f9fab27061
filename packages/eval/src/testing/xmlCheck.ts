// A small XML well-formedness check for tests: tags balance, attributes are quoted, one root element.
// Returns the text content of <text> elements so tests can assert plotted labels appear.

export function checkXml(xml: string): { root: string; texts: string[]; elements: number } {
  const stack: string[] = [];
  const texts: string[] = [];
  let root = '';
  let elements = 0;
  let i = 0;
  let inText = false;
  const tagRe = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    if (inText) texts.push(decode(xml.slice(i, lt)));
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<?', lt)) {
      i = xml.indexOf('?>', lt) + 2;
      continue;
    }
    tagRe.lastIndex = lt;
    const m = tagRe.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      inText = false;
    } else {
      elements++;
      if (stack.length === 0) {
        if (root) throw new Error('more than one root element');
        root = name!;
      }
      if (!self) stack.push(name!);
      inText = name === 'text' && !self;
    }
    i = lt + m[0].length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('><')}>`);
  if (!root) throw new Error('no root element');
  return { root, texts: texts.filter((t) => t.trim().length > 0), elements };
}

function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
