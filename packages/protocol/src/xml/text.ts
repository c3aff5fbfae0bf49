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

const UTF8 = new TextEncoder();
const LENIENT = new TextDecoder('utf-8', { ignoreBOM: true });
const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `bytes` as text, with U+FFFD for what is not UTF-8 (one for each byte of an encoded surrogate). */
export function textOfBytes(bytes: Uint8Array): string {
  return LENIENT.decode(bytes);
}

/** `bytes` as text if they are UTF-8 (then the text encodes back to exactly these bytes), else undefined. */
export function utf8TextOf(bytes: Uint8Array): string | undefined {
  try {
    return STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * inf_xml_util_get_child_text as bytes: text children in UTF-8 and each <uchar/> as
 * g_unichar_to_utf8 writes its value, unchecked (a surrogate, or a value past U+10FFFF in GLib's
 * old 4- to 6-byte forms). Where libinfinity converts the result (text sessions), readText
 * refuses what the conversion refuses; chat sessions keep these bytes as they are.
 */
export function readTextBytes(el: Element): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const child of el.children) {
    const part = typeof child === 'string' ? UTF8.encode(child)
      : child.name === 'uchar' ? unicharToUtf8(parseUint('codepoint', requireAttr(child, 'codepoint'))) : undefined;
    if (part) {
      parts.push(part);
      size += part.length;
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** g_unichar_to_utf8 for any 32-bit value. */
function unicharToUtf8(c: number): Uint8Array {
  let first: number;
  let len: number;
  if (c < 0x80) [first, len] = [0, 1];
  else if (c < 0x800) [first, len] = [0xc0, 2];
  else if (c < 0x10000) [first, len] = [0xe0, 3];
  else if (c < 0x200000) [first, len] = [0xf0, 4];
  else if (c < 0x4000000) [first, len] = [0xf8, 5];
  else [first, len] = [0xfc, 6];
  const bytes = new Uint8Array(len);
  for (let i = len - 1; i > 0; i--) {
    bytes[i] = (c & 0x3f) | 0x80;
    c >>>= 6;
  }
  bytes[0] = (c | first) & 0xff;
  return bytes;
}

/** g_utf8_skip: the length g_utf8_next_char steps over, from a lead byte. */
function utf8Skip(b: number): number {
  return b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : b < 0xfc ? 5 : b < 0xfe ? 6 : 1;
}

/** g_utf8_get_char: decodes without checking; 0xFFFFFFFF where it cannot (a byte past the end reads as 0, the NUL GLib keeps there). */
function utf8GetChar(bytes: Uint8Array, p: number): number {
  const c = bytes[p]!;
  let mask: number;
  let len: number;
  if (c < 0x80) [mask, len] = [0x7f, 1];
  else if ((c & 0xe0) === 0xc0) [mask, len] = [0x1f, 2];
  else if ((c & 0xf0) === 0xe0) [mask, len] = [0x0f, 3];
  else if ((c & 0xf8) === 0xf0) [mask, len] = [0x07, 4];
  else if ((c & 0xfc) === 0xf8) [mask, len] = [0x03, 5];
  else if ((c & 0xfe) === 0xfc) [mask, len] = [0x01, 6];
  else return 0xffffffff;
  let result = c & mask;
  for (let i = 1; i < len; i++) {
    const d = bytes[p + i] ?? 0;
    if ((d & 0xc0) !== 0x80) return 0xffffffff;
    result = ((result << 6) | (d & 0x3f)) >>> 0;
  }
  return result;
}

/**
 * inf_xml_util_add_child_text over bytes as readTextBytes gives them: every character as
 * g_utf8_get_char reads it, text where it is an XML Char, <uchar codepoint="N"/> elsewhere.
 */
export function appendTextBytes(el: Element, bytes: Uint8Array): Element {
  let start = 0;
  let p = 0;
  while (p < bytes.length) {
    const next = p + utf8Skip(bytes[p]!);
    const ch = utf8GetChar(bytes, p);
    if (!isXmlChar(ch)) {
      if (p > start) pushText(el, textOfBytes(bytes.subarray(start, p)));
      const u = new Element('uchar', { codepoint: String(ch) });
      u.parent = el;
      el.children.push(u);
      start = next;
    }
    p = next;
  }
  if (p > start) pushText(el, textOfBytes(bytes.subarray(start, Math.min(p, bytes.length))));
  return el;
}

