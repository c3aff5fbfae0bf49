/**
 * Text content with <uchar codepoint="N"/> for characters XML 1.0 cannot carry, as
 * inf_xml_util_add_child_text / inf_xml_util_get_child_text do it.
 */
import { Element } from '@xmpp/xml';
import { InfError } from '../errors.js';
import { parseUint, requireAttr } from '../infinote/values.js';
import { hasNonXmlChar, isXmlChar } from './chars.js';

/**
 * Concatenates the text children and <uchar/> children of `el` in document order. Other child
 * elements are skipped, as inf_xml_util_get_child_text skips them.
 */
export function readText(el: Element): string {
  let s = '';
  for (const child of el.children) {
    if (typeof child === 'string') s += child;
    else if (child.name === 'uchar') s += ucharValue(child);
  }
  return s;
}

function ucharValue(el: Element): string {
  // The code point as inf_xml_util_get_attribute_uint_required reads it (" 7" and "0x7" are 7),
  // with its errors.
  const cp = parseUint('codepoint', requireAttr(el, 'codepoint'));
  // libinfinity then encodes it with g_unichar_to_utf8 and converts the text with g_convert,
  // which refuses a surrogate. (It takes a value past U+10FFFF into the text as bytes that are
  // no UTF-8; that is refused here too.)
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new InfError('g_convert_error', 1, 'Invalid byte sequence in conversion input');
  return String.fromCodePoint(cp);
}

/**
 * Appends `text` to `el`, splitting out every character that is not an XML Char (and every lone
 * surrogate) into an empty <uchar codepoint="N"/> element, so that serialize() never has to.
 */
export function appendText(el: Element, text: string): Element {
  splitXmlText(text, (run) => pushText(el, run), (cp) => {
    const u = new Element('uchar', { codepoint: String(cp) });
    u.parent = el;
    el.children.push(u);
  });
  return el;
}

/**
 * Cuts `text` into runs of XML characters (passed to `run` as slices, never empty) and the code
 * points XML cannot carry, lone surrogates included (passed to `uchar`), in order. Almost all
 * text is plain XML characters: then one regex scan, and the string is passed on as it is
 * (building it again character by character costs megabytes of garbage on a big sync).
 */
export function splitXmlText(text: string, run: (s: string) => void, uchar: (cp: number) => void): void {
  if (!hasNonXmlChar(text)) {
    if (text) run(text);
    return;
  }
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let cp = c;
    let len = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
        len = 2;
      }
    }
    if (!isXmlChar(cp)) {
      if (i > start) run(text.slice(start, i));
      uchar(cp);
      start = i + len;
    }
    i += len - 1;
  }
  if (text.length > start) run(text.slice(start));
}

/** Adds a text node, merging with a preceding one as libxml2 merges adjacent text nodes. */
function pushText(el: Element, s: string): void {
  const n = el.children.length;
  const last = n > 0 ? el.children[n - 1] : undefined;
  if (typeof last === 'string') el.children[n - 1] = last + s;
  else el.children.push(s);
}
