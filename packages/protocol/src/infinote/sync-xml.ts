/**
 * Synchronisation messages written straight to XML text: byte for byte what
 * serialize(encodeSyncRequest(r)) and serialize(encodeSyncSegment(s)) give, without building an
 * element tree. A subscriber to a long document gets thousands of these at once, and building,
 * walking and collecting the trees was most of the server's cost of a synchronisation.
 */
import { NON_XML_CHAR, escapeAttribute, escapeText, isXmlChar } from '../xml/chars.js';
import type { Segment, WireOperation, WireSyncRequest } from './session.js';

/** Element content of `text`: escaped runs, and `<uchar codepoint="N"/>` for what XML cannot carry. */
export function textXml(text: string): string {
  if (!NON_XML_CHAR.test(text)) return escapeText(text);
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let cp = c;
    let len = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        len = 2;
      }
    }
    if (!isXmlChar(cp)) {
      out += escapeText(text.slice(start, i)) + `<uchar codepoint="${cp}"/>`;
      start = i + len;
    }
    i += len - 1;
  }
  return out + escapeText(text.slice(start));
}

function element(name: string, attrs: string, content: string): string {
  return content === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`;
}

function segmentXml(name: string, seg: Segment): string {
  return element(name, ` author="${seg.author}"`, textXml(seg.text));
}

/** The operation element as encodeOperation builds it (libinfinity's -caret names). */
export function operationXml(op: WireOperation): string {
  switch (op.kind) {
    case 'insert':
      return element('insert-caret', ` pos="${op.pos}"`, textXml(op.text));
    case 'delete':
      if ('len' in op) return `<delete-caret pos="${op.pos}" len="${op.len}"/>`;
      return element('delete-caret', ` pos="${op.pos}"`, op.segments.map((s) => segmentXml('segment', s)).join(''));
    case 'move':
      return `<move caret="${op.caret}" selection="${op.selection}"/>`;
    case 'no-op':
      return '<no-op/>';
    case 'undo':
      return '<undo-caret/>';
    case 'redo':
      return '<redo-caret/>';
  }
}

export function syncRequestXml(req: WireSyncRequest): string {
  return `<sync-request user="${req.user}" time="${escapeAttribute(req.time.toString())}">${operationXml(req.operation)}</sync-request>`;
}

export function syncSegmentXml(seg: Segment): string {
  return segmentXml('sync-segment', seg);
}
