/**
 * Internal requests (InfAdoptedRequest): a DO carrying an operation, or an UNDO/REDO, made by
 * `user` at state `vector`. Immutable; fold, mirror and transform make new ones
 * (inf_adopted_request_fold/_mirror/_transform).
 */
import { affectsBuffer, revert, transform, type Op } from './operations.js';
import type { StateVector, UserId } from './state-vector.js';

export const DO = 0;
export const UNDO = 1;
export const REDO = 2;
export type ReqType = typeof DO | typeof UNDO | typeof REDO;

export interface Req {
  readonly type: ReqType;
  readonly user: UserId;
  readonly vector: StateVector;
  /** The operation of a DO; null for UNDO and REDO. */
  readonly op: Op | null;
}

/** The request's index in its user's log: its own component of the vector. */
export function indexOf(r: Req): number {
  return r.vector.get(r.user);
}

/** inf_adopted_request_affects_buffer. */
export function reqAffectsBuffer(r: Req): boolean {
  return r.type !== DO || affectsBuffer(r.op!);
}

/** Skips an even number of `into`'s requests (a do/undo pair) without changing the operation. */
export function fold(r: Req, into: UserId, by: number): Req {
  return { type: r.type, user: r.user, vector: r.vector.add(into, by), op: r.op };
}

/** The inverse of a DO, placed `by` (odd) own requests later. */
export function mirror(r: Req, by: number): Req {
  return { type: DO, user: r.user, vector: r.vector.add(r.user, by), op: revert(r.op!) };
}

/**
 * Transforms DO `r` against DO `against`, both at the same state. inf_adopted_request_transform
 * always passes OTHER when r's user id is the larger one, else SELF: in a tie between two inserts
 * (also inside split operations, which undo turns into inserts) the larger id keeps its place.
 */
export function transformReq(r: Req, against: Req): Req {
  const cid = r.user > against.user ? 1 : -1;
  return { type: DO, user: r.user, vector: r.vector.add(against.user, 1), op: transform(r.op!, against.op!, cid) };
}
