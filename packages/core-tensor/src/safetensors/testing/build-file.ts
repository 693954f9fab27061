/**
 * @file Test helper: a safetensors file built by hand (header text, optional space padding, data),
 * independent of our writer, so reader tests do not only check the writer against itself.
 */
export function buildSafetensors(
  header: object | string,
  data: Uint8Array = new Uint8Array(0),
  pad = 0,
  lengthOverride?: bigint,
): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text + ' '.repeat(pad));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
