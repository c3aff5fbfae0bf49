/**
 * The communication layer (protocol.md 2): the <group name [publisher]> envelope and the seq
 * strings. Routing a message to its group is the caller's business.
 */
import { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';
import { parseUint } from './values.js';

export interface GroupEnvelope {
  name: string;
  /** Absent/"me" = hosted by the sender, "you" = by the receiver, else a literal publisher id. */
  publisher?: string;
  /** Each child element is one message, dispatched in order (libinfinity batches up to 5). */
  messages: Element[];
}

/**
 * Any top-level element with a `name` attribute is a group container; libinfinity does not
 * check the element name (inf-communication-registry.c). It hands every child node to the
 * group, text too, which libxml names "text": a run of text (white space included) becomes a
 * message `<text/>`, which the directory answers as an unexpected message, as infinoted does.
 */
export function decodeGroup(el: Element): GroupEnvelope {
  const name = el.attrs.name;
  if (typeof name !== 'string') {
    throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NO_SUCH_ATTRIBUTE,
      `Request '${el.name}' does not contain required attribute 'name'`);
  }
  const messages = el.children.map((c) => (typeof c === 'string' ? new Element('text') : c));
  for (const m of messages) m.parent = null;
  const publisher = el.attrs.publisher;
  return typeof publisher === 'string' ? { name, publisher, messages } : { name, messages };
}

/**
 * `<group [publisher] name>msgs</group>`. Clients write publisher="you" first; the server
 * omits it (protocol.md 2.1). Messages are attached as they are (not copied).
 */
export function encodeGroup(name: string, messages: Element | readonly Element[], publisher?: string): Element {
  const el = new Element('group', publisher !== undefined ? { publisher, name } : { name });
  for (const m of Array.isArray(messages) ? messages : [messages as Element]) el.cnode(m);
  return el;
}

/** A reply seq "SEQID/N" (protocol.md 2.4). */
export interface ReplySeq {
  seqId: number;
  n: number;
}

export function formatReplySeq(seqId: number, n: number): string {
  return `${seqId}/${n}`;
}

/** Parses "K/N"; undefined if the string has another shape (then it is not ours to match). */
export function parseReplySeq(s: string): ReplySeq | undefined {
  const m = /^(\d{1,10})\/(\d{1,10})$/.exec(s);
  if (!m) return undefined;
  return { seqId: Number(m[1]), n: Number(m[2]) };
}

/**
 * The client-side `seq` of a request (a plain counter), or undefined without one. An invalid
 * value is INF_REQUEST_ERROR 5 with infinoted's exact message (capture 03), answered without seq.
 */
export function requestSeq(el: Element): number | undefined {
  const raw = el.attrs.seq;
  if (raw === undefined) return undefined;
  return parseUint('seq', typeof raw === 'string' ? raw : '');
}
