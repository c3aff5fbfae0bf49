/**
 * The one conversion between the session codecs' wire types and @tandem/adopted's request and
 * user types, for every site that feeds the engine from XML (server, client, conformance runner):
 * the counterpart of inf_text_session_xml_to_request / inf_adopted_session_read_request_info.
 */
import { StateVector, type IncomingRequest, type Request, type RequestBody, type UserInit } from '@tandem/adopted';
import type { WireOperation, WireRequest, WireSyncRequest, WireUser } from './session.js';

/** Code points of a string (positions and lengths in the protocol count them, 1.3). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The engine's request body for a wire operation; a synchronised delete keeps its removed segments. */
export function requestBodyFromWire(op: WireOperation): RequestBody {
  switch (op.kind) {
    case 'undo':
      return { type: 'undo' };
    case 'redo':
      return { type: 'redo' };
    case 'insert':
      return { type: 'do', op: { kind: 'insert', pos: op.pos, text: op.text } };
    case 'move':
      return { type: 'do', op: { kind: 'move', caret: op.caret, selection: op.selection } };
    case 'no-op':
      return { type: 'do', op: { kind: 'no-op' } };
    case 'delete': {
      if ('len' in op) return { type: 'do', op: { kind: 'delete', pos: op.pos, len: op.len } };
      let len = 0;
      for (const s of op.segments) len += codePoints(s.text);
      return { type: 'do', op: { kind: 'delete', pos: op.pos, len, removed: op.segments } };
    }
  }
}

/**
 * A live <request> for AdoptedSession.receive. `parseTime` turns the diff into a StateVector up
 * front (for callers that deliver the same request many times); otherwise the engine parses it.
 */
export function incomingFromWire(r: WireRequest, parseTime = false): IncomingRequest {
  const time = parseTime ? StateVector.parse(r.time) : r.time;
  // Built field by field: object spread is a measurable share of decoding a long record.
  const out = withUser(requestBodyFromWire(r.operation), r.user) as { time?: StateVector | string; num?: number };
  out.time = time;
  if (r.num !== undefined) out.num = r.num;
  return out as IncomingRequest;
}

/** The body with `user` added (mutates the fresh body object requestBodyFromWire returned). */
function withUser(body: RequestBody, user: number): RequestBody & { user: number } {
  const out = body as RequestBody & { user: number };
  out.user = user;
  return out;
}

/** A <sync-request> (absolute vector) for AdoptedSession.fromSync / receiveRequest. */
export function requestFromWireSync(r: WireSyncRequest): Request {
  const out = withUser(requestBodyFromWire(r.operation), r.user) as RequestBody & { user: number; vector?: StateVector };
  out.vector = r.time;
  return out as Request;
}

/**
 * The wire operation of an engine request. `sync` selects the <sync-request> form, where a
 * delete carries its removed segments (4.1); otherwise a delete travels by length (5.5).
 */
export function wireOperationOf(r: Request, sync: boolean): WireOperation {
  if (r.type !== 'do') return { kind: r.type };
  const op = r.op;
  switch (op.kind) {
    case 'insert':
      return { kind: 'insert', pos: op.pos, text: op.text };
    case 'delete':
      if (!sync) return { kind: 'delete', pos: op.pos, len: op.len };
      return { kind: 'delete', pos: op.pos, segments: (op.removed ?? []).map((s) => ({ author: s.author, text: s.text })) };
    case 'move':
      return { kind: 'move', caret: op.caret, selection: op.selection };
    case 'no-op':
      return { kind: 'no-op' };
  }
}

/** An engine request as a <sync-request>. */
export function wireSyncOf(r: Request): WireSyncRequest {
  return { user: r.user, time: r.vector, operation: wireOperationOf(r, true) };
}

/** A decoded user-join/sync-user as the engine's user (hue is the session's business, not the engine's). */
export function userInitFromWire(u: WireUser): UserInit {
  return {
    id: u.id,
    name: u.name,
    status: u.status,
    vector: u.time ?? StateVector.zero,
    caret: u.caret ?? 0,
    selection: u.selection ?? 0,
  };
}
