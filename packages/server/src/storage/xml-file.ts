/**
 * XML documents as infinoted's storage writes them: libxml2 xmlDocFormatDump without a declared
 * encoding. That means a `<?xml version="1.0"?>` prolog, two-space indentation of element-only
 * content (mixed content is written as is), `<x/>` for empty elements, and every non-ASCII
 * character as a hexadecimal character reference (`&#xE4;`). Text that XML 1.0 cannot carry is
 * written as `<uchar codepoint="N"/>` children (inf_xml_util_add_child_text).
 */

export interface FileElement {
  name: string;
  attrs: [string, string][];
  children: (FileElement | string)[];
  /** Text content: never indented, even when it consists of `<uchar/>` elements only. */
  text?: boolean;
}

export function el(name: string, attrs: [string, string][] = [], children: (FileElement | string)[] = []): FileElement {
  return { name, attrs, children };
}

/**
 * An element holding text (a buffer segment). libxml2 indents element-only content, so
 * infinoted 0.7.2 writes a segment made of control characters only as
 * `<segment>\n      <uchar codepoint="7"/>\n    </segment>` and reads the indentation back as
 * text: every save and load adds white space around it. Here such a segment is written without
 * indentation, which infinoted reads back exactly (see textFromFile for the other direction).
 */
export function textEl(name: string, attrs: [string, string][], text: string): FileElement {
  return { name, attrs, children: textChildren(text), text: true };
}

/** True for characters XML 1.0 allows in text. */
export function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Text as children: plain runs plus `<uchar codepoint>` for characters XML cannot carry. */
export function textChildren(text: string): (FileElement | string)[] {
  const out: (FileElement | string)[] = [];
  let run = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isXmlChar(cp)) {
      run += ch;
    } else {
      if (run) out.push(run);
      run = '';
      out.push(el('uchar', [['codepoint', String(cp)]]));
    }
  }
  if (run) out.push(run);
  return out;
}

function charRef(cp: number): string {
  return `&#x${cp.toString(16).toUpperCase()};`;
}

function escapeText(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '\r') out += '&#13;';
    else if (cp >= 0x80) out += charRef(cp);
    else out += ch;
  }
  return out;
}

function escapeAttr(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '"') out += '&quot;';
    else if (ch === '\n') out += '&#10;';
    else if (ch === '\r') out += '&#13;';
    else if (ch === '\t') out += '&#9;';
    else if (cp >= 0x80) out += charRef(cp);
    else out += ch;
  }
  return out;
}

function write(e: FileElement, indent: number, format: boolean, out: string[]): void {
  const pad = format ? '  '.repeat(indent) : '';
  const open = `<${e.name}${e.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')}`;
  if (e.children.length === 0) {
    out.push(`${pad}${open}/>`);
    return;
  }
  // libxml2 stops formatting below an element that has a text child (xmlNodeDumpOutputInternal).
  const childFormat = format && !e.text && e.children.every((c) => typeof c !== 'string');
  if (!childFormat) {
    const inner: string[] = [];
    for (const c of e.children) {
      if (typeof c === 'string') inner.push(escapeText(c));
      else write(c, 0, false, inner);
    }
    out.push(`${pad}${open}>${inner.join('')}</${e.name}>`);
    return;
  }
  out.push(`${pad}${open}>`);
  for (const c of e.children) write(c as FileElement, indent + 1, true, out);
  out.push(`${pad}</${e.name}>`);
}

export function serializeFile(root: FileElement): string {
  const out: string[] = [];
  write(root, 0, true, out);
  return `<?xml version="1.0"?>\n${out.join('\n')}\n`;
}
