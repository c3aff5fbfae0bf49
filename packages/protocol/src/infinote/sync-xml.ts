/**
 * Synchronisation messages written straight to XML text: byte for byte what
 * serialize(encodeSyncRequest(r)) and serialize(encodeSyncSegment(s)) give, without building an
 * element tree. A subscriber to a long document gets thousands of these at once, and building,
 * walking and collecting the trees was most of the server's cost of a synchronisation.
 */
import { escapeAttribute, escapeText } from '../xml/chars.js';
import { splitXmlText } from '../xml/text.js';
import type { Segment, WireOperation, WireSyncRequest } from './session.js';

/** Element content of `text`: escaped runs, and `<uchar codepoint="N"/>` for what XML cannot carry. */
export function textXml(text: string): string {
  let out = '';
  splitXmlText(text, (run) => (out += escapeText(run)), (cp) => (out += `<uchar codepoint="${cp}"/>`));
  return out;
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
