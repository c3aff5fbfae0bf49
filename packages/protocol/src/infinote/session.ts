/**
 * Session messages (protocol.md 4 and 5): users, adOPTed requests with text operations, the
 * synchronisation messages, and the small session-level control messages. Pure codecs: decode
 * throws InfError (the code libinfinity would report), encode builds an Element.
 */
import { Element } from '@xmpp/xml';
import { StateVector, StateVectorError } from '@tandem/adopted';
import { ErrorCodes, InfError } from '../errors.js';
import { appendText, readText } from '../xml/text.js';
import {
  formatDouble, optionalAttr, strtoulDecimalUint32, strtoulPrefix, optionalUintAttr, parseDouble, parseInt32, parseUint, requireAttr, uintAttr,
} from './values.js';

export type UserStatus = 'active' | 'inactive' | 'unavailable';

/** A run of text by one author; author 0 = nobody. */
export interface Segment {
  author: number;
  text: string;
}

/** Text operations as they travel; positions and lengths count Unicode code points. */
export type WireOperation =
  | { kind: 'insert'; pos: number; text: string }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'delete'; pos: number; segments: Segment[] }
  | { kind: 'no-op' }
  | { kind: 'move'; caret: number; selection: number }
  | { kind: 'undo' }
  | { kind: 'redo' };

/** A live <request>: `time` is the diff string relative to the user's previous vector (5.5). */
export interface WireRequest {
  user: number;
  time: string;
  /** Repetition count, >= 2 when present (multi-step undo/redo). */
  num?: number;
  operation: WireOperation;
}

/** A <sync-request>: absolute time, deletions with segments, never move/no-op (4.1). */
export interface WireSyncRequest {
  user: number;
  time: StateVector;
  operation: WireOperation;
}

/**
 * User attributes as they travel in user-join/user-rejoin/sync-user. Text sessions carry
 * time/caret/selection/hue; chat sessions only id/name/status.
 */
export interface WireUser {
  id: number;
  name: string;
  status: UserStatus;
  /** Absolute state vector. */
  time?: StateVector;
  caret?: number;
  selection?: number;
  hue?: number;
}

const ADOPTED = ErrorCodes.INF_ADOPTED_SESSION_ERROR;
const REQ = ErrorCodes.INF_REQUEST_ERROR;

/**
 * A vector attribute as libinfinity reads it (the canonical form fast, anything else as
 * from_string does); its errors name the attribute unless `name` is undefined.
 */
function vectorOf(name: string | undefined, text: string): StateVector {
  try {
    return StateVector.parse(text);
  } catch {
    try {
      return StateVector.parseLikeLibinfinity(text);
    } catch (e) {
      const msg = e instanceof StateVectorError ? e.message : String(e);
      throw new InfError('INF_ADOPTED_STATE_VECTOR_ERROR', ErrorCodes.INF_ADOPTED_STATE_VECTOR_ERROR.BAD_FORMAT, name === undefined ? msg : `${name}: ${msg}`);
    }
  }
}

/** Parses a diff-encoded `time` and adds the user's reference vector (inf_adopted_state_vector_from_string_diff). */
export function decodeTimeDiff(diff: string, base: StateVector): StateVector {
  return vectorOf('time', diff).plus(base);
}

/** `vector - base` as a string, zero components omitted (inf_adopted_state_vector_to_string_diff). */
export function encodeTimeDiff(vector: StateVector, base: StateVector): string {
  return vector.minus(base).toString();
}

export function parseStatus(value: string): UserStatus {
  if (value === 'active' || value === 'inactive' || value === 'unavailable') return value;
  throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.INVALID_STATUS, `Invalid user status: "${value}"`);
}

// ---- operations ---------------------------------------------------------------------------

function decodeSegment(el: Element): Segment {
  return { author: uintAttr(el, 'author'), text: readText(el) };
}

function encodeSegment(name: string, seg: Segment): Element {
  return appendText(new Element(name, { author: String(seg.author) }), seg.text);
}

/** The first element child, as inf_adopted_session_read_request_info takes it. */
function operationChild(el: Element): Element {
  for (const c of el.children) if (typeof c !== 'string') return c;
  throw new InfError('INF_ADOPTED_SESSION_ERROR', ADOPTED.MISSING_OPERATION, 'Operation for request missing');
}

/**
 * One operation element. Legacy names (insert, delete, undo, redo) are accepted as libinfinity
 * does (inf_text_session_xml_to_request); `sync` selects segments instead of `len` for deletes.
 */
export function decodeOperation(op: Element, sync: boolean): WireOperation {
  switch (op.name) {
    case 'insert':
    case 'insert-caret':
      return { kind: 'insert', pos: uintAttr(op, 'pos'), text: readText(op) };
    case 'delete':
    case 'delete-caret': {
      const pos = uintAttr(op, 'pos');
      if (!sync) return { kind: 'delete', pos, len: uintAttr(op, 'len') };
      const segments: Segment[] = [];
      for (const c of op.children) if (typeof c !== 'string' && c.name === 'segment') segments.push(decodeSegment(c));
      return { kind: 'delete', pos, segments };
    }
    case 'move':
      if (sync) break;
      return { kind: 'move', caret: uintAttr(op, 'caret'), selection: parseInt32('selection', requireAttr(op, 'selection')) };
    case 'no-op':
      if (sync) break;
      return { kind: 'no-op' };
    case 'undo':
    case 'undo-caret':
      return { kind: 'undo' };
    case 'redo':
    case 'redo-caret':
      return { kind: 'redo' };
  }
  throw new InfError('INF_ADOPTED_SESSION_ERROR', ADOPTED.INVALID_REQUEST, `Received invalid operation "${op.name}"`);
}

/** Encodes with the -caret names libinfinity 0.7 sends (inf_text_session_request_to_xml). */
export function encodeOperation(op: WireOperation): Element {
  switch (op.kind) {
    case 'insert':
      return appendText(new Element('insert-caret', { pos: String(op.pos) }), op.text);
    case 'delete': {
      const el = new Element('delete-caret', { pos: String(op.pos) });
      if ('len' in op) el.attrs.len = String(op.len);
      else for (const s of op.segments) el.cnode(encodeSegment('segment', s));
      return el;
    }
    case 'move':
      return new Element('move', { caret: String(op.caret), selection: String(op.selection) });
    case 'no-op':
      return new Element('no-op');
    case 'undo':
      return new Element('undo-caret');
    case 'redo':
      return new Element('redo-caret');
  }
}

/** Whether the operation changes the buffer, i.e. advances its user's vector component (6.2). */
export function affectsBuffer(op: WireOperation): boolean {
  return op.kind !== 'move' && op.kind !== 'no-op';
}

// ---- requests -----------------------------------------------------------------------------

/** `<request user time [num]><op/></request>`; the time diff is validated but kept as text. */
export function decodeRequest(el: Element): WireRequest {
  return decodeRequestAndTime(el).request;
}

/** decodeRequest, with the time diff parsed as well (for the engine, without parsing it twice). */
export function decodeRequestAndTime(el: Element): { request: WireRequest; diff: StateVector } {
  const user = uintAttr(el, 'user');
  const time = requireAttr(el, 'time');
  const diff = vectorOf('time', time);
  const numText = optionalAttr(el, 'num');
  const operation = decodeOperation(operationChild(el), false);
  const req: WireRequest = { user, time, operation };
  if (numText !== undefined) {
    const num = parseUint('num', numText);
    if (num === 0) throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, "Attribute 'num' must not be zero");
    // libinfinity writes num only when > 1 (inf_adopted_session_broadcast_request), 1 is harmless
    if (num > 1) req.num = num;
  }
  return { request: req, diff };
}

export function encodeRequest(req: WireRequest): Element {
  const el = new Element('request', { user: String(req.user), time: req.time });
  if (req.num !== undefined && req.num > 1) el.attrs.num = String(req.num);
  return el.cnode(encodeOperation(req.operation)).up() as Element;
}

/**
 * A sync-request, read in inf_adopted_session_read_request_info's order: the user (which
 * `knownUser`, if given, may refuse before anything else is read), the time, the operation. A
 * time that does not parse gets libinfinity's bare state-vector message.
 */
export function decodeSyncRequest(el: Element, knownUser?: (id: number) => void): WireSyncRequest {
  const user = uintAttr(el, 'user');
  knownUser?.(user);
  const time = vectorOf(undefined, requireAttr(el, 'time'));
  return { user, time, operation: decodeOperation(operationChild(el), true) };
}

export function encodeSyncRequest(req: WireSyncRequest): Element {
  const el = new Element('sync-request', { user: String(req.user), time: req.time.toString() });
  return el.cnode(encodeOperation(req.operation)).up() as Element;
}

// ---- users --------------------------------------------------------------------------------

/**
 * The attributes of a user element in libinfinity's fixed writing order
 * (id name status time caret selection hue), those present only.
 */
function userAttrs(u: Partial<WireUser>): Record<string, string> {
  const a: Record<string, string> = {};
  if (u.id !== undefined) a.id = String(u.id);
  if (u.name !== undefined) a.name = u.name;
  if (u.status !== undefined) a.status = u.status;
  if (u.time !== undefined) a.time = u.time.toString();
  if (u.caret !== undefined) a.caret = String(u.caret);
  if (u.selection !== undefined) a.selection = String(u.selection);
  if (u.hue !== undefined) a.hue = formatDouble(u.hue);
  return a;
}

function readUserProps(el: Element): Partial<WireUser> {
  const u: Partial<WireUser> = {};
  const id = optionalAttr(el, 'id');
  if (id !== undefined) u.id = parseUint('id', id);
  const name = optionalAttr(el, 'name');
  if (name !== undefined) u.name = name;
  const status = optionalAttr(el, 'status');
  if (status !== undefined) u.status = parseStatus(status);
  const time = optionalAttr(el, 'time');
  if (time !== undefined) u.time = vectorOf('time', time);
  const caret = optionalAttr(el, 'caret');
  if (caret !== undefined) u.caret = parseUint('caret', caret);
  const selection = optionalAttr(el, 'selection');
  if (selection !== undefined) u.selection = parseInt32('selection', selection);
  const hue = optionalAttr(el, 'hue');
  if (hue !== undefined) u.hue = parseDouble('hue', hue);
  return u;
}

/** A server-side user element: user-join / user-rejoin replies and sync-user, optional trailing seq. */
export function encodeUser(name: 'user-join' | 'user-rejoin' | 'sync-user', user: WireUser, seq?: string): Element {
  const el = new Element(name, userAttrs(user));
  if (seq !== undefined) el.attrs.seq = seq;
  return el;
}

/** Decodes user-join/user-rejoin replies and sync-user: id, name and status are required. */
export function decodeUser(el: Element): WireUser & { seq?: string } {
  const u = readUserProps(el);
  if (u.id === undefined) {
    throw new InfError('INF_SESSION_SYNC_ERROR', ErrorCodes.INF_SESSION_SYNC_ERROR.ID_NOT_PRESENT, "'id' attribute in user message is missing");
  }
  if (u.name === undefined) {
    throw new InfError('INF_SESSION_SYNC_ERROR', ErrorCodes.INF_SESSION_SYNC_ERROR.NAME_NOT_PRESENT, "'name' attribute in user message is missing");
  }
  const out: WireUser & { seq?: string } = { ...u, id: u.id, name: u.name, status: u.status ?? 'active' };
  const seq = optionalAttr(el, 'seq');
  if (seq !== undefined) out.seq = seq;
  return out;
}

/** A client's join request: no id; the server assigns it (5.2). */
export interface UserJoinRequest {
  seq?: number;
  name: string;
  status?: UserStatus;
  time?: StateVector;
  caret?: number;
  selection?: number;
  hue?: number;
}

/** `<user-join seq name status time caret [selection] hue/>`: the order Gobby's request produces. */
export function encodeUserJoinRequest(req: UserJoinRequest): Element {
  const el = new Element('user-join', {});
  if (req.seq !== undefined) el.attrs.seq = String(req.seq);
  Object.assign(el.attrs, userAttrs({ ...req, id: undefined }));
  return el;
}

/**
 * A client's join request as the server validates it (infd_session_proxy_handle_user_join):
 * `id` present -> INF_REQUEST_ERROR 4; name required; status unavailable refused. Which of
 * time/caret a session type requires is the caller's check (INF_ADOPTED_SESSION_ERROR 3 etc.).
 */
/** A value that does not parse is no value (libinfinity's get_xml_user_props reports no errors). */
function lenient<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * A user-join as infd_session_proxy_perform_user_join reads it. Its attribute readers report no
 * errors: an unknown status is "unavailable", a `time`, `caret`, `selection` or `hue` that does
 * not parse is taken as absent (selection then 0, hue then undefined: the server picks one), and
 * the checks run in its order: name, `nameInUse` (the caller's session), id, status; then the
 * caller's own: time, caret (inf_adopted_session / inf_text_session validate_user_props).
 */
export function decodeUserJoinRequest(el: Element, nameInUse?: (name: string) => void): UserJoinRequest {
  const name = optionalAttr(el, 'name');
  if (name === undefined) {
    // infd_session_proxy words this one differently from inf_xml_util (capture 03b).
    throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, 'Request does not contain required attribute "name"');
  }
  nameInUse?.(name);
  if (optionalAttr(el, 'id') !== undefined) {
    throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_ATTRIBUTE, "'id' attribute provided in request");
  }
  const statusText = optionalAttr(el, 'status');
  const status: UserStatus | undefined = statusText === undefined ? undefined
    : statusText === 'active' || statusText === 'inactive' ? statusText : 'unavailable';
  if (status === 'unavailable') {
    throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_ATTRIBUTE, '"status" attribute is "unavailable" in user join request');
  }
  const out: UserJoinRequest = { name };
  const seq = lenient(() => optionalUintAttr(el, 'seq'));
  if (seq !== undefined) out.seq = seq;
  if (status !== undefined) out.status = status;
  const time = optionalAttr(el, 'time');
  const vector = time === undefined ? undefined : lenient(() => vectorOf('time', time));
  if (vector !== undefined) out.time = vector;
  const caret = lenient(() => optionalUintAttr(el, 'caret'));
  if (caret !== undefined) out.caret = caret;
  const selection = optionalAttr(el, 'selection');
  if (selection !== undefined) out.selection = lenient(() => parseInt32('selection', selection)) ?? 0;
  const hue = optionalAttr(el, 'hue');
  const h = hue === undefined ? undefined : lenient(() => parseDouble('hue', hue));
  if (h !== undefined) out.hue = h;
  return out;
}

/** What a synchronisation receiver already holds: a sync-user may not reuse an id or a name. */
export interface SyncUserTaken {
  id(id: number): boolean;
  name(name: string): boolean;
}

/**
 * A sync-user as a libinfinity receiver reads it (inf_session / inf_adopted_session /
 * inf_text_session get_xml_user_props): the id as strtoul base 10 kept in 32 bits, an unknown
 * status "unavailable" and none "unavailable" too (InfUser's default), a `time` or `caret` that
 * does not parse absent, a `selection` that does not parse 0, a `hue` that does not parse
 * undefined (the receiver picks one at random) and one outside [0, 1] 0 (InfTextUser's default:
 * GObject refuses the value). Then the checks of validate_user_props, in their order: id present
 * and free, name present and free, time present, caret present. (infinoted runs those checks
 * without reporting them, see docs/server.md; the errors here are the ones they describe.)
 */
export function decodeSyncUser(el: Element, taken: SyncUserTaken): WireUser & { time: StateVector; caret: number; selection: number } {
  const SYNC = ErrorCodes.INF_SESSION_SYNC_ERROR;
  const idText = optionalAttr(el, 'id');
  if (idText === undefined) throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.ID_NOT_PRESENT, "'id' attribute in user message is missing");
  const id = strtoulDecimalUint32(idText);
  if (taken.id(id)) throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.ID_IN_USE, 'User ID is already in use');
  const name = optionalAttr(el, 'name');
  if (name === undefined) throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.NAME_NOT_PRESENT, "'name' attribute in user message is missing");
  if (taken.name(name)) throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.NAME_IN_USE, 'User Name is already in use');
  const timeText = optionalAttr(el, 'time');
  const time = timeText === undefined ? undefined : lenient(() => vectorOf('time', timeText));
  if (time === undefined) throw new InfError('INF_ADOPTED_SESSION_ERROR', ADOPTED.MISSING_STATE_VECTOR, '"time" attribute in user message is missing');
  const caret = lenient(() => optionalUintAttr(el, 'caret'));
  if (caret === undefined) throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, '"caret" attribute in user message is missing');
  const statusText = optionalAttr(el, 'status');
  const status: UserStatus = statusText === 'active' || statusText === 'inactive' ? statusText : 'unavailable';
  const selectionText = optionalAttr(el, 'selection');
  const selection = selectionText === undefined ? 0 : lenient(() => parseInt32('selection', selectionText)) ?? 0;
  const hueText = optionalAttr(el, 'hue');
  const parsedHue = hueText === undefined ? undefined : lenient(() => parseDouble('hue', hueText));
  const user: WireUser & { time: StateVector; caret: number; selection: number } = { id, name, status, time, caret, selection };
  if (parsedHue !== undefined) user.hue = parsedHue >= 0 && parsedHue <= 1 ? parsedHue : 0;
  return user;
}

// ---- small session messages ---------------------------------------------------------------

export function encodeUserStatusChange(id: number, status: UserStatus): Element {
  return new Element('user-status-change', { id: String(id), status });
}

export function decodeUserStatusChange(el: Element): { id: number; status: UserStatus } {
  return { id: uintAttr(el, 'id'), status: parseStatus(requireAttr(el, 'status')) };
}

export function encodeUserColorChange(id: number, hue: number): Element {
  return new Element('user-color-change', { id: String(id), hue: formatDouble(hue) });
}

export function decodeUserColorChange(el: Element): { id: number; hue: number } {
  const hue = parseDouble('hue', requireAttr(el, 'hue'));
  if (hue < 0 || hue > 1) {
    throw new InfError('INF_TEXT_SESSION_ERROR', ErrorCodes.INF_TEXT_SESSION_ERROR.INVALID_HUE, `Invalid hue value: "${hue}"`);
  }
  return { id: uintAttr(el, 'id'), hue };
}

/** `<invalid-request request state user><reason>text</reason></invalid-request>` (5.5). */
export interface InvalidRequest {
  request: StateVector;
  state: StateVector;
  user: number;
  reason: string;
}

export function encodeInvalidRequest(m: InvalidRequest): Element {
  const el = new Element('invalid-request', { request: m.request.toString(), state: m.state.toString(), user: String(m.user) });
  el.cnode(appendText(new Element('reason'), m.reason));
  return el;
}

export function decodeInvalidRequest(el: Element): InvalidRequest {
  const reason = el.getChild('reason');
  return {
    request: vectorOf('request', requireAttr(el, 'request')),
    state: vectorOf('state', requireAttr(el, 'state')),
    user: uintAttr(el, 'user'),
    reason: reason ? readText(reason) : '',
  };
}

// ---- synchronisation (protocol.md 4) --------------------------------------------------------

export function encodeSyncBegin(numMessages: number): Element {
  return new Element('sync-begin', { 'num-messages': String(numMessages) });
}

export function decodeSyncBegin(el: Element): { numMessages: number } {
  const raw = optionalAttr(el, 'num-messages');
  if (raw === undefined) {
    throw new InfError('INF_SESSION_SYNC_ERROR', ErrorCodes.INF_SESSION_SYNC_ERROR.NUM_MESSAGES_MISSING,
      'begin-of-sync message does not contain the number of messages to expect');
  }
  // inf_session reads it with a bare strtoul (base 0): no errors, what does not parse counts 0.
  return { numMessages: strtoulPrefix(raw) };
}

/** Largest UTF-8 size of one <sync-segment> (inf_text_session_to_xml_sync writes 1024-byte chunks). */
export const SYNC_SEGMENT_MAX_BYTES = 1024;

export function encodeSyncSegment(seg: Segment): Element {
  return encodeSegment('sync-segment', seg);
}

export function decodeSyncSegment(el: Element): Segment {
  return decodeSegment(el);
}

/**
 * Splits a buffer's runs into sync-segment-sized pieces, as infinoted does: at most 1024 bytes
 * of UTF-8 each, never inside a character.
 */
export function splitSegments(runs: Iterable<Segment>, maxBytes = SYNC_SEGMENT_MAX_BYTES): Segment[] {
  const out: Segment[] = [];
  for (const run of runs) {
    // Pieces are sliced out of the run (no per-character strings: a megabyte run would otherwise
    // cost a million allocations per synchronisation).
    const text = run.text;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let len = 1;
      let b: number;
      if (c < 0x80) b = 1;
      else if (c < 0x800) b = 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        b = 4;
        len = 2;
      } else b = 3;
      if (bytes + b > maxBytes) {
        out.push({ author: run.author, text: text.slice(start, i) });
        start = i;
        bytes = 0;
      }
      bytes += b;
      i += len - 1;
    }
    if (start < text.length) out.push({ author: run.author, text: text.slice(start) });
  }
  return out;
}

/** The empty control messages of sessions and synchronisation. */
export type SessionSignal = 'sync-end' | 'sync-ack' | 'sync-cancel' | 'session-close' | 'session-unsubscribe';

export function encodeSignal(name: SessionSignal): Element {
  return new Element(name);
}
