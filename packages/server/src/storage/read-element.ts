/**
 * The shape storage decoders read: a parsed element with its attributes and children (strings
 * for text). Parsed documents from @tandem/protocol's XML reader have this shape.
 */
export interface ReadElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: (ReadElement | string)[];
}

export class StorageFormatError extends Error {
  /** INFD_FILESYSTEM_STORAGE_ERROR 2 = INVALID_FORMAT */
  readonly domain = 'INFD_FILESYSTEM_STORAGE_ERROR';
  readonly code = 2;
  constructor(message: string) {
    super(message);
    this.name = 'StorageFormatError';
  }
}

export function childElements(e: ReadElement): ReadElement[] {
  return e.children.filter((c): c is ReadElement => typeof c !== 'string');
}

/** Text content with `<uchar codepoint>` children reassembled (inf_xml_util_get_child_text). */
export function elementText(e: ReadElement): string {
  let out = '';
  for (const c of e.children) {
    if (typeof c === 'string') out += c;
    else if (c.name === 'uchar') {
      const cp = Number(c.attrs.codepoint);
      if (!Number.isInteger(cp) || cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw new StorageFormatError(`Invalid uchar codepoint "${c.attrs.codepoint ?? ''}"`);
      }
      out += String.fromCodePoint(cp);
    }
  }
  return out;
}

/**
 * elementText of a text element that libxml2 may have indented (xml-file.ts textEl): when the
 * only text nodes are exactly the indentation libxml2 puts around element-only content at
 * `depth` ("\n" and two spaces a level before each child, one level less before the end tag)
 * and every element is a `<uchar/>`, the white space is formatting that infinoted 0.7.2 wrote,
 * not content, and is dropped.
 */
export function formattedText(e: ReadElement, depth: number): string {
  const inner = '\n' + '  '.repeat(depth + 1);
  const last = '\n' + '  '.repeat(depth);
  const c = e.children;
  let formatted = c.length >= 3 && c.length % 2 === 1 && c[c.length - 1] === last;
  for (let i = 0; formatted && i < c.length - 1; i++) {
    const x = c[i]!;
    formatted = i % 2 === 0 ? x === inner : typeof x !== 'string' && x.name === 'uchar';
  }
  return elementText(formatted ? { ...e, children: c.filter((x) => typeof x !== 'string') } : e);
}

export function requiredAttr(e: ReadElement, name: string): string {
  const v = e.attrs[name];
  if (v === undefined) throw new StorageFormatError(`Element "${e.name}" lacks the required attribute "${name}"`);
  return v;
}

export function uintAttr(e: ReadElement, name: string): number {
  const v = requiredAttr(e, name);
  if (!/^\s*\d+\s*$/.test(v) || Number(v) > 0xffffffff) {
    throw new StorageFormatError(`Attribute "${name}" of "${e.name}" is not an unsigned number: "${v}"`);
  }
  return Number(v);
}

export function doubleAttr(e: ReadElement, name: string): number {
  const v = requiredAttr(e, name);
  const n = Number(v.trim());
  if (v.trim() === '' || Number.isNaN(n)) throw new StorageFormatError(`Attribute "${name}" of "${e.name}" is not a number: "${v}"`);
  return n;
}
