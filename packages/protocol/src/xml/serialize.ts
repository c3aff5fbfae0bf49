/**
 * Compact serialisation byte-exact to libxml2's xmlNodeDump without formatting, which is what
 * infinoted and every libinfinity client put on the wire (protocol.md 1.2).
 */
import { Element } from '@xmpp/xml';
import { escapeAttribute, escapeText, hasNonXmlChar } from './chars.js';
import { appendText } from './text.js';

/**
 * An element serialised ahead of time (hot paths such as a synchronisation of thousands of
 * requests): serialize() writes `xml` as it is. It holds no children or attributes of its own.
 */
export class SerializedElement extends Element {
  constructor(readonly xml: string) {
    super('serialized');
  }
}

export interface SerializeOptions {
  /**
   * Write non-ASCII characters of text content as &#xHEX; references too (storage files); attribute
   * values always get them (libxml2 without a declared encoding).
   */
  ascii?: boolean;
}

/** `<name a="v">children</name>`, or `<name a="v"/>` without children; attributes in insertion order. */
export function serialize(el: Element, options: SerializeOptions = {}): string {
  const parts: string[] = [];
  write(el, parts, options.ascii === true);
  return parts.join('');
}

/** The start tag alone, e.g. a stream header `<stream:stream ...>` that is never closed in the same write. */
export function serializeStartTag(el: Element): string {
  return `<${el.name}${attributes(el)}>`;
}

function attributes(el: Element): string {
  let s = '';
  for (const [k, v] of Object.entries(el.attrs)) {
    if (v === undefined || v === null) continue; // ltx convention: absent
    const value = String(v);
    if (hasNonXmlChar(value)) {
      // libxml2 would emit a document no parser accepts; refuse instead of corrupting the stream.
      throw new TypeError(`Attribute ${k} of <${el.name}> contains a character XML cannot carry`);
    }
    // Non-ASCII always as references in attributes (libxml2, see escapeAttribute); `ascii` is for text.
    s += ` ${k}="${escapeAttribute(value)}"`;
  }
  return s;
}

function write(el: Element, parts: string[], ascii: boolean): void {
  if (el instanceof SerializedElement) {
    if (ascii) throw new TypeError('a pre-serialised element cannot be written with ascii');
    parts.push(el.xml);
    return;
  }
  const attrs = attributes(el);
  // Empty text nodes do not count: libxml2 never creates them, so `<x/>` is what it would write.
  if (el.children.every((c) => c === '')) {
    parts.push(`<${el.name}${attrs}/>`);
    return;
  }
  parts.push(`<${el.name}${attrs}>`);
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (hasNonXmlChar(child)) {
        // Text built without appendText(): split it the same way on the fly.
        const tmp = appendText(new (el.constructor as typeof Element)('x'), child);
        for (const c of tmp.children) {
          if (typeof c === 'string') parts.push(escapeText(c, ascii));
          else write(c, parts, ascii);
        }
      } else {
        parts.push(escapeText(child, ascii));
      }
    } else {
      write(child, parts, ascii);
    }
  }
  parts.push(`</${el.name}>`);
}
