/**
 * The adOPTed algorithm as libinfinity implements it (inf-adopted-algorithm.c): translation of a
 * request to any reachable state (folds, transformations, late mirrors, with the same choice order
 * and the same translation cache), execution, undo/redo admission and request-log cleanup.
 */
import { transformCaretDelete, transformCaretInsert } from './caret.js';
import { Chunk } from './chunk.js';
import { TextBuffer } from './buffer.js';
import { AdoptedError, AdoptedErrorDomain, AlgorithmErrorCode, TextOperationErrorCode } from './errors.js';
import { affectsBuffer, deleteOp, feedRecon, isReversible, unsplit, type DeleteOp, type Op } from './operations.js';
import { DO, REDO, UNDO, fold, indexOf, mirror, reqAffectsBuffer, transformReq, type Req } from './request.js';
import { RequestLog } from './request-log.js';
import { StateVector, hashDelta, type UserId } from './state-vector.js';

export type UserStatus = 'active' | 'inactive' | 'unavailable';

/** What the algorithm needs to know about a user (InfAdoptedUser + InfTextUser). */
export interface AlgoUser {
  readonly id: UserId;
  name: string;
  status: UserStatus;
  /** V_u: the state of the user's last request (+1 own) or, for a local user, the current state. */
  vector: StateVector;
  caret: number;
  selection: number;
  local: boolean;
  readonly log: RequestLog;
}

/** A primitive change of the buffer or of a caret, in execution order. */
export type BufferChange =
  | { readonly type: 'insert'; readonly user: UserId; readonly pos: number; readonly length: number; readonly text: string; readonly segments: { author: UserId; text: string }[] }
  | { readonly type: 'erase'; readonly user: UserId; readonly pos: number; readonly length: number; readonly text: string; readonly segments: { author: UserId; text: string }[] }
  | { readonly type: 'move'; readonly user: UserId; readonly caret: number; readonly selection: number };

export interface Execution {
  /** The request as logged (a received delete gains the removed text). */
  readonly logged: Req;
  readonly changes: BufferChange[];
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

const FOLD = 0;
const TRANSFORM = 1;
const MIRROR = 2;

/**
 * The steps of a translation (step i: fold `by[i]` of `users[i]`'s requests, transform against
 * the translation of `originals[i]`, or mirror `by[i]` own requests later) and where to start:
 * at step `start` with the cached translation `cached` (step 0 and the request itself if null).
 */
interface Path {
  readonly kinds: number[];
  readonly users: UserId[];
  readonly by: number[];
  readonly originals: (Req | null)[];
  readonly start: number;
  readonly cached: Req | null;
}

/** True iff every component of `vector` (dense, null: unknown user) is <= the one of `state`. */
function denseLeq(vector: Int32Array | null, state: Int32Array): boolean {
  if (!vector) return false;
  for (let i = 0; i < vector.length; i++) if (vector[i]! > state[i]!) return false;
  return true;
}

export class Algorithm {
  current: StateVector = StateVector.zero;
  readonly users: AlgoUser[] = [];
  private readonly byId = new Map<UserId, AlgoUser>();
  private changes: BufferChange[] = [];
  /** User id -> position in `users` (the dense form of state vectors in translation walks). */
  private readonly slots = new Map<UserId, number>();
  private scratch = new Int32Array(16);

  constructor(
    readonly buffer: TextBuffer,
    /** max-total-log-size; Infinity (G_MAXUINT) disables cleanup and the undo limit. */
    readonly maxTotalLogSize: number,
  ) {}

  user(id: UserId): AlgoUser | undefined {
    return this.byId.get(id);
  }

  /** inf_adopted_algorithm_add_user: the current state takes over the user's own component. */
  addUser(u: AlgoUser): void {
    this.slots.set(u.id, this.users.length);
    this.users.push(u);
    this.byId.set(u.id, u);
    this.current = this.current.set(u.id, u.vector.get(u.id));
  }

  /** inf_adopted_algorithm_can_undo / can_redo for a user. */
  canUndo(u: AlgoUser): boolean {
    return this.canUndoRedo(u, u.log.nextUndo());
  }

  canRedo(u: AlgoUser): boolean {
    return this.canUndoRedo(u, u.log.nextRedo());
  }

  private canUndoRedo(u: AlgoUser, r: Req | null): boolean {
    if (!r) return false;
    if (this.maxTotalLogSize >= UNLIMITED) return true;
    const original = u.log.originalOf(r)!;
    // Refuse what other sites may already have dropped from their logs.
    return original.vector.vdiff(u.vector) < this.maxTotalLogSize;
  }

  /**
   * Executes a causally ready request (its vector <= current). Throws AdoptedError; on error the
   * state is as before (the buffer is only touched once the operation is known to fit).
   */
  execute(req: Req): Execution {
    const u = this.byId.get(req.user)!;
    const vec = req.vector.toString();
    if (req.type === UNDO && !this.canUndo(u)) {
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.NO_UNDO, `The request "${vec}" from user "${u.name}" is an UNDO request but there is no request to be undone.`);
    }
    if (req.type === REDO && !this.canRedo(u)) {
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.NO_REDO, `The request "${vec}" from user "${u.name}" is a REDO request but there is no request to be redone.`);
    }
    const endBefore = u.log.end;
    let translated!: Req;
    let logged!: Req;
    this.changes = [];
    try {
      const original = u.log.originalOf(req)!;
      translated = this.translate(original, this.current);
      const op = translated.op!;
      checkFits(op, this.buffer.length);
      if (req.type === DO) {
        const logOp = this.applyTransformed(req.op!, op, u);
        logged = logOp === req.op ? req : { type: DO, user: req.user, vector: req.vector, op: logOp };
      } else {
        this.apply(op, u);
        logged = req;
      }
    } catch (e) {
      // Translations of this very request must not outlive it.
      u.log.cacheDropFrom(endBefore);
      if (e instanceof AdoptedError) {
        // The translated request is always at the current state.
        throw e.prefixed(`Failed to apply request "${vec}" from user "${u.name}" at state "${this.current}": `);
      }
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.FAILED, `Failed to execute request "${vec}" from user "${u.name}": ${(e as Error).message}`);
    }
    if (reqAffectsBuffer(logged)) {
      u.log.add(logged);
      this.current = this.current.add(u.id, 1);
      // inf_adopted_algorithm_update_local_user_times: local users are always up to date.
      for (const v of this.users) if (v.local) v.vector = this.current;
    }
    // A user doing anything but a no-op becomes active (inf_adopted_session_end_execute_request_cb).
    if (translated.op!.kind !== 'no-op' && u.status === 'inactive') u.status = 'active';
    return { logged, changes: this.changes };
  }

  /** inf_adopted_algorithm_cleanup: drops related sets that every available site has long passed. */
  cleanup(): void {
    if (this.maxTotalLogSize >= UNLIMITED) return;
    // A request goes only once the common state is maxTotalLogSize requests past it; the common
    // state is at most the current one, so while the oldest logged request is nearer than that
    // to the current state nothing can go (and the O(users^2) common state is not needed).
    let oldest = Infinity;
    for (const u of this.users) if (u.log.size > 0) oldest = Math.min(oldest, u.log.get(u.log.begin).vector.sum());
    if (this.current.sum() - oldest < this.maxTotalLogSize) return;
    let lcp = this.current;
    for (const u of this.users) if (u.status !== 'unavailable') lcp = lcp.min(u.vector);
    for (const u of this.users) {
      const log = u.log;
      let n = log.begin;
      while (n < log.end) {
        const upper = log.upperRelated(n);
        if (!upper.vector.causallyBeforeInc(lcp, u.id)) break;
        if (log.get(n).vector.vdiff(lcp) < this.maxTotalLogSize) break;
        n = indexOf(upper) + 1;
      }
      log.removeUpTo(n);
    }
  }

  /** inf_adopted_algorithm_translate_request, with the per-log cache of translations. */
  translate(req: Req, to: StateVector): Req {
    const log = this.byId.get(req.user)!.log;
    if (reqAffectsBuffer(req)) {
      const cached = log.cacheGet(to);
      if (cached) return cached;
    }
    const result = this.translateForward(req, to);
    // Only reversible buffer changes are cached (inf_adopted_algorithm_can_cache).
    if (result.type !== DO || (affectsBuffer(result.op!) && isReversible(result.op!))) log.cacheAdd(result);
    return result;
  }

  private translateForward(req: Req, to: StateVector): Req {
    if (req.vector.equals(to)) return req;
    const path = this.path(req, to);
    let cur = path.cached ?? req;
    for (let i = path.start; i < path.kinds.length; i++) {
      const user = path.users[i]!;
      switch (path.kinds[i]) {
        case FOLD:
          cur = fold(cur, user, path.by[i]!);
          break;
        case TRANSFORM: {
          // The other request at this state first, then this one (cache included), as
          // inf_adopted_algorithm_transform_request looks both up.
          const at = cur.vector;
          const against = this.translate(path.originals[i]!, at);
          cur = transformReq(this.translate(cur, at), against);
          break;
        }
        default:
          cur = mirror(cur, path.by[i]!);
          break;
      }
    }
    return cur;
  }

  /**
   * The steps libinfinity's translation takes from `req`'s state to `to`, and where to start them.
   * The steps depend on the states alone: at each state, users are tried in the order they were
   * added and the first that allows a fold (its next request is undone/redone within the target)
   * or a transformation (its next request's original is causally before the state) decides; if
   * none does, the request's own user undid or redid it later (a late mirror).
   *
   * The walk looks every intermediate translation up in the cache (transform_request does), so
   * where a translation of this request to a state on the path is cached, the walk would carry on
   * from it: the steps before the last such state are skipped. The cache is a memo of a
   * deterministic function of (request, state), so the result is the same; translating one
   * request to the states along another's path hits this all the time, and the states alone are
   * much cheaper to walk (a mutable array, hashes updated per step) than the transformations.
   */
  private path(req: Req, to: StateVector): Path {
    const slots = this.slots;
    if (this.scratch.length < this.users.length) this.scratch = new Int32Array(this.users.length * 2);
    const state = this.scratch;
    state.fill(0);
    const initial = req.vector.dense(slots);
    if (!initial) throw new Error(`state ${req.vector} names an unknown user`);
    state.set(initial);
    // Only users whose component differs between the request and the target can take a step;
    // one leaves the list once its component has reached the target's (components only grow).
    // With hundreds of users in a session and a handful concurrent, this saves a scan of every
    // user per step.
    const pending: AlgoUser[] = [];
    const pendingSlot: number[] = [];
    const pendingTo: number[] = [];
    for (let k = 0; k < this.users.length; k++) {
      const v = this.users[k]!;
      if (v.id === req.user) continue;
      const toN = to.get(v.id);
      if (state[k] === toN) continue;
      if (state[k]! > toN) throw new Error(`state ${to} is not reachable from ${req.vector}`);
      pending.push(v);
      pendingSlot.push(k);
      pendingTo.push(toN);
    }
    const ownSlot = slots.get(req.user)!;
    const ownTo = to.get(req.user);
    if (state[ownSlot]! > ownTo) throw new Error(`state ${to} is not reachable from ${req.vector}`);
    let remaining = to.sum() - req.vector.sum();

    const kinds: number[] = [];
    const users: UserId[] = [];
    const by: number[] = [];
    const originals: (Req | null)[] = [];
    /** After each step: the raw hash and the number of non-zero components of the state. */
    const hashes: number[] = [];
    const nonzeros: number[] = [];
    let hash = req.vector.rawHash();
    let nonzero = req.vector.users().length;
    while (remaining > 0) {
      let kind = MIRROR;
      let user = req.user;
      let slot = ownSlot;
      let n = 0;
      let original: Req | null = null;
      for (let k = 0; k < pending.length; k++) {
        const v = pending[k]!;
        const from = state[pendingSlot[k]!]!;
        const toN = pendingTo[k]!;
        if (from === toN) {
          pending.splice(k, 1);
          pendingSlot.splice(k, 1);
          pendingTo.splice(k--, 1);
          continue;
        }
        const assoc = v.log.nextAssociated(from);
        if (assoc && indexOf(assoc) < toN) {
          kind = FOLD;
          n = indexOf(assoc) - from + 1;
        } else {
          const o = v.log.originalOf(v.log.get(from))!;
          if (!denseLeq(o.vector.dense(slots), state)) continue;
          kind = TRANSFORM;
          n = 1;
          original = o;
        }
        user = v.id;
        slot = pendingSlot[k]!;
        break;
      }
      if (kind === MIRROR) n = this.lateMirrorBy(req.user, state[ownSlot]!, ownTo, to);
      const old = state[slot]!;
      state[slot] = old + n;
      hash = (hash + hashDelta(user, old, old + n)) >>> 0;
      if (old === 0) nonzero++;
      remaining -= n;
      kinds.push(kind);
      users.push(user);
      by.push(n);
      originals.push(original);
      hashes.push(hash);
      nonzeros.push(nonzero);
    }

    // The last cached state on the path before the target (the caller looked the target up).
    let start = 0;
    let cached: Req | null = null;
    if (reqAffectsBuffer(req)) {
      const log = this.byId.get(req.user)!.log;
      for (let i = kinds.length - 1; i > 0; i--) {
        // Back from the state after step i to the one after step i - 1.
        state[slots.get(users[i]!)!]! -= by[i]!;
        const found = log.cacheCandidates(state[ownSlot]!, hashes[i - 1]! & 0x7fffffff);
        if (found === undefined) continue;
        for (const c of Array.isArray(found) ? (found as readonly Req[]) : [found as Req]) {
          if (c.vector.equalsDense(state, slots, nonzeros[i - 1]!)) {
            cached = c;
            break;
          }
        }
        if (cached) {
          start = i;
          break;
        }
      }
    }
    return { kinds, users, by, originals, start, cached };
  }

  /**
   * The request's own user undid/redid it later: the walk continues with its inverse, this many
   * own requests later.
   */
  private lateMirrorBy(user: UserId, from: number, toN: number, to: StateVector): number {
    const log = this.byId.get(user)!.log;
    const entry = log.get(from);
    const assoc = log.nextAssociated(from);
    let assocIndex = -1;
    if (assoc) {
      assocIndex = indexOf(assoc);
    } else if (entry.type === UNDO ? log.nextRedo() === entry : log.nextUndo() === entry) {
      // The undo/redo being executed right now is not in the log yet.
      assocIndex = toN;
    }
    if (assocIndex < 0 || assocIndex > toN) throw new Error(`state ${to} is not reachable from request ${from} of user ${user}`);
    return assocIndex - from;
  }

  /** inf_adopted_operation_apply_transformed: a delete known by length only learns its text. */
  private applyTransformed(original: Op, transformed: Op, u: AlgoUser): Op {
    if (original.kind !== 'delete' || original.chunk) {
      this.apply(transformed, u);
      return original;
    }
    let removed = Chunk.empty;
    for (const part of unsplit(transformed)) {
      const d = part as DeleteOp;
      // The removed text, merged with what concurrent deletes took, rebuilds the original range.
      if (d.len > 0) {
        const pieces = feedSlice(d, this.buffer.slice(d.pos, d.len));
        for (const p of pieces) removed = removed.concat(p);
      } else {
        for (const r of d.recon) removed = removed.concat(r.chunk);
      }
      this.apply(d, u);
    }
    return deleteOp(original.pos, removed);
  }

  private apply(op: Op, u: AlgoUser): void {
    switch (op.kind) {
      case 'insert':
        this.buffer.insert(op.pos, op.chunk);
        this.changes.push({ type: 'insert', user: u.id, pos: op.pos, length: op.chunk.length, text: op.chunk.text, segments: op.chunk.segments() });
        for (const v of this.users) {
          if (v.status === 'unavailable') continue;
          [v.caret, v.selection] = transformCaretInsert(op.pos, op.chunk.length, v.caret, v.selection, v !== u);
        }
        return;
      case 'delete': {
        const removed = this.buffer.erase(op.pos, op.len);
        this.changes.push({ type: 'erase', user: u.id, pos: op.pos, length: op.len, text: removed.text, segments: removed.segments() });
        for (const v of this.users) {
          if (v.status === 'unavailable') continue;
          [v.caret, v.selection] = transformCaretDelete(op.pos, op.len, v.caret, v.selection);
        }
        return;
      }
      case 'split':
        this.apply(op.first, u);
        this.apply(op.second, u);
        return;
      case 'no-op':
        return;
      case 'move':
        u.caret = op.caret;
        u.selection = op.selection;
        this.changes.push({ type: 'move', user: u.id, caret: op.caret, selection: op.selection });
        return;
    }
  }
}

function feedSlice(d: DeleteOp, slice: Chunk): Chunk[] {
  return feedRecon(d.recon, 0, slice).map((r) => r.chunk);
}

/** Checks an operation against the buffer length before anything is changed (libinfinity's messages). */
function checkFits(op: Op, length: number): void {
  let len = length;
  for (const part of unsplit(op)) {
    switch (part.kind) {
      case 'insert':
        if (part.pos > len) throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_INSERT, 'Attempt to insert text after the end of the document');
        len += part.chunk.length;
        break;
      case 'delete':
        if (part.pos + part.len > len) throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_DELETE, 'Attempt to remove text from after the end of the document');
        len -= part.len;
        break;
      case 'move':
        if (part.caret > len || part.caret + part.selection > len || part.caret + part.selection < 0) {
          throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_MOVE, 'Attempt to move cursor or selection beyond the end of the document');
        }
        break;
      default:
        break;
    }
  }
}
