/**
 * XML documents as infinoted's storage writes them: libxml2 xmlDocFormatDump without a declared
 * encoding. That means a `<?xml version="1.0"?>` prolog, two-space indentation of element-only
 * content (mixed content is written as is), `<x/>` for empty elements, and every non-ASCII
 * character as a hexadecimal character reference (`&#xE4;`), a carriage return in text as `&#xD;`
 * (in attribute values `&#13;`). Text that XML 1.0 cannot carry is
 * written as `<uchar codepoint="N"/>` children (inf_xml_util_add_child_text). Text and attribute
 * values are escaped by @tandem/protocol's escapeText/escapeAttribute in their ASCII form.
 */
import { escapeAttribute, escapeText, splitXmlText } from '@tandem/protocol';

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

/**
 * Text as children: plain runs plus `<uchar codepoint>` for characters XML cannot carry (lone
 * surrogates included). The runs are slices of `text`: a big document is not rebuilt character
 * by character (millions of short-lived strings that made a 10 MiB save spend seconds collecting).
 */
export function textChildren(text: string): (FileElement | string)[] {
  const out: (FileElement | string)[] = [];
  splitXmlText(text, (run) => out.push(run), (cp) => out.push(el('uchar', [['codepoint', String(cp)]])));
  return out;
}

function write(e: FileElement, indent: number, format: boolean, out: string[]): void {
  const pad = format ? '  '.repeat(indent) : '';
  const open = `<${e.name}${e.attrs.map(([k, v]) => ` ${k}="${escapeAttribute(v, true)}"`).join('')}`;
  if (e.children.length === 0) {
    out.push(`${pad}${open}/>`);
    return;
  }
  // libxml2 stops formatting below an element that has a text child (xmlNodeDumpOutputInternal).
  const childFormat = format && !e.text && e.children.every((c) => typeof c !== 'string');
  if (!childFormat) {
    const inner: string[] = [];
    for (const c of e.children) {
      // A carriage return in text is "&#xD;" in a saved file (libxml2's file writer; its writer
      // for the network, and every attribute value, use "&#13;"): seen in infinoted 0.7.2's files.
      if (typeof c === 'string') inner.push(escapeText(c, true).replaceAll('&#13;', '&#xD;'));
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
