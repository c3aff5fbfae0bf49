/**
 * Decoding of Infinote request/user/segment elements for the conformance runner. This is the one
 * module that knows the XML forms (protocol sections 4, 5.5, 7.7, 8); the generic XML and
 * <uchar/> handling come from @tandem/protocol.
 */
import { readText, type Element } from '@tandem/protocol';
import { StateVector, type IncomingRequest, type Operation, type Request, type RequestBody, type Segment, type UserInit, type UserStatus } from '@tandem/adopted';

export class FormatError extends Error {
  override name = 'FormatError';
}

export function childElements(el: Element): Element[] {
  return el.children.filter((c): c is Element => typeof c !== 'string');
}

/** An unsigned decimal attribute (inf_xml_util_get_attribute_uint). */
export function uintAttr(el: Element, name: string, required: true): number;
export function uintAttr(el: Element, name: string, required?: false): number | undefined;
export function uintAttr(el: Element, name: string, required = false): number | undefined {
  const v = el.attrs[name] as string | undefined;
  if (v === undefined) {
    if (required) throw new FormatError(`Request '${el.name}' does not contain required attribute '${name}'`);
    return undefined;
  }
  if (!/^\s*\d+\s*$/.test(v) || Number(v) > 0xffffffff) throw new FormatError(`Attribute '${name}' does not contain a valid number: "${v}"`);
  return Number(v);
}

function intAttr(el: Element, name: string): number {
  const v = el.attrs[name] as string | undefined;
  if (v === undefined) throw new FormatError(`Request '${el.name}' does not contain required attribute '${name}'`);
  if (!/^\s*-?\d+\s*$/.test(v)) throw new FormatError(`Attribute '${name}' does not contain a valid number: "${v}"`);
  return Number(v);
}

/** <segment author="N">text</segment> children, in order (initial-buffer, sync-segment, delete). */
export function readSegments(el: Element): Segment[] {
  const out: Segment[] = [];
  for (const c of childElements(el)) {
    if (c.name !== 'segment') throw new FormatError(`Node '${c.name}' unexpected`);
    out.push(readSegment(c));
  }
  return out;
}

export function readSegment(el: Element): Segment {
  return { author: uintAttr(el, 'author') ?? 0, text: readText(el) };
}

function readOperation(op: Element, forSync: boolean): RequestBody {
  switch (op.name) {
    case 'insert':
    case 'insert-caret':
      return { type: 'do', op: { kind: 'insert', pos: uintAttr(op, 'pos', true), text: readText(op) } };
    case 'delete':
    case 'delete-caret': {
      const pos = uintAttr(op, 'pos', true);
      if (forSync) {
        const removed = childElements(op).filter((c) => c.name === 'segment').map(readSegment);
        let len = 0;
        for (const s of removed) len += [...s.text].length;
        return { type: 'do', op: { kind: 'delete', pos, len, removed } };
      }
      return { type: 'do', op: { kind: 'delete', pos, len: uintAttr(op, 'len', true) } };
    }
    case 'move':
      return { type: 'do', op: { kind: 'move', caret: uintAttr(op, 'caret', true), selection: intAttr(op, 'selection') } satisfies Operation };
    case 'no-op':
      return { type: 'do', op: { kind: 'no-op' } };
    case 'undo':
    case 'undo-caret':
      return { type: 'undo' };
    case 'redo':
    case 'redo-caret':
      return { type: 'redo' };
    default:
      throw new FormatError(`Unknown operation '${op.name}'`);
  }
}

function operationElement(el: Element): Element {
  const op = childElements(el)[0];
  if (!op) throw new FormatError('Operation for request missing');
  return op;
}

/** A live <request user time [num]> (time diff-encoded). */
export function decodeRequest(el: Element): IncomingRequest {
  const user = uintAttr(el, 'user', true);
  const time = el.attrs.time as string | undefined;
  if (time === undefined) throw new FormatError("Request 'request' does not contain required attribute 'time'");
  const num = uintAttr(el, 'num');
  const body = readOperation(operationElement(el), false);
  return num === undefined ? { ...body, user, time } : { ...body, user, time, num };
}

/** A <sync-request user time> (absolute time; deletes carry segments). */
export function decodeSyncRequest(el: Element): Request {
  const user = uintAttr(el, 'user', true);
  const time = el.attrs.time as string | undefined;
  if (time === undefined) throw new FormatError("Request 'sync-request' does not contain required attribute 'time'");
  return { ...readOperation(operationElement(el), true), user, vector: StateVector.parse(time) };
}

const STATUSES: readonly string[] = ['active', 'inactive', 'unavailable'];

/** <sync-user>/<user> of a record: id name status time caret selection. */
export function decodeUser(el: Element): UserInit {
  const status = (el.attrs.status as string | undefined) ?? 'active';
  if (!STATUSES.includes(status)) throw new FormatError(`Invalid user status "${status}"`);
  const selection = el.attrs.selection === undefined ? 0 : intAttr(el, 'selection');
  return {
    id: uintAttr(el, 'id', true),
    name: (el.attrs.name as string | undefined) ?? undefined,
    status: status as UserStatus,
    vector: StateVector.parse((el.attrs.time as string | undefined) ?? ''),
    caret: uintAttr(el, 'caret') ?? 0,
    selection,
  };
}
