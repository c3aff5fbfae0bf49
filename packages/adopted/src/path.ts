/**
 * The path of a translation (inf_adopted_algorithm_translate_request): which steps libinfinity's
 * recursion takes from a request's state to a target state, and from which of them the walk can
 * start because the translation there is cached.
 *
 * The steps depend on the states alone: at each state, users are tried in the order they were
 * added and the first that allows a fold (its next request is undone/redone within the target) or
 * a transformation (its next request's original is causally before the state) decides; if none
 * does, the request's own user undid or redid it later (a late mirror).
 *
 * The walk looks every intermediate translation up in the cache (transform_request does), so where
 * a translation of the request to a state on the path is cached, the walk would carry on from it:
 * the steps before the last such state need not run. The cache is a memo of a deterministic
 * function of (request, state), so the result is the same; translating one request to the states
 * along another's path hits this all the time, and the states alone are much cheaper to walk (a
 * mutable array, the hash updated per step) than the transformations.
 *
 * Steps live in a stack (the arena): the caller runs its steps while translations it needs find
 * their own paths above them, and releases its part when done. Nothing is allocated per step.
 */
import { UNDO, reqAffectsBuffer, type Req } from './request.js';
import type { RequestLog } from './request-log.js';
import { hashDelta, type StateVector, type UserId } from './state-vector.js';

export const FOLD = 0;
export const TRANSFORM = 1;
export const MIRROR = 2;

export interface PathUser {
  readonly id: UserId;
  readonly log: RequestLog;
}

export class PathFinder {
  /** Step i: its kind, the user it folds/transforms against (or mirrors), by how many requests. */
  kinds = new Uint8Array(256);
  users = new Float64Array(256);
  by = new Float64Array(256);
  /** The original of the user's next request (TRANSFORM steps). */
  originals: (Req | null)[] = [];
  /** The first free arena slot. */
  top = 0;
  /** What find() found: run steps start..end-1 from `cached` (the request itself if null). */
  start = 0;
  end = 0;
  cached: Req | null = null;

  // Scratch space of one find() (it calls nothing that finds a path).
  private state = new Float64Array(16);
  private pendingSlot = new Int32Array(16);
  private pendingTo = new Float64Array(16);
  private seenFrom = new Float64Array(16);
  private assocOf = new Float64Array(16);
  private blocker = new Int32Array(16);
  private readonly originalOf: (Req | null)[] = [];
  private readonly denseOf: (Float64Array | null)[] = [];
  private hashes = new Float64Array(256);
  private nonzeros = new Int32Array(256);

  constructor(
    /** The session's users in the order they were added, and their positions in that order. */
    private readonly sessionUsers: readonly PathUser[],
    private readonly slots: ReadonlyMap<UserId, number>,
  ) {}

  /** Finds the steps from `req`'s state to `to` (they differ) at `top` and moves `top` past them. */
  find(req: Req, to: StateVector): void {
    const users = this.sessionUsers;
    const slots = this.slots;
    const n = users.length;
    if (this.state.length < n) {
      this.state = new Float64Array(n * 2);
      this.pendingSlot = new Int32Array(n * 2);
      this.pendingTo = new Float64Array(n * 2);
      this.seenFrom = new Float64Array(n * 2);
      this.assocOf = new Float64Array(n * 2);
      this.blocker = new Int32Array(n * 2);
    }
    const state = this.state;
    const initial = req.vector.dense(slots);
    if (!initial) throw new Error(`state ${req.vector} names an unknown user`);
    state.fill(0);
    state.set(initial);
    // Only users whose component differs between the request and the target can take a step;
    // one leaves the list once its component has reached the target's (components only grow).
    // With hundreds of users in a session and a handful concurrent, this saves a scan of every
    // user per step.
    const pendingSlot = this.pendingSlot;
    const pendingTo = this.pendingTo;
    const ownSlot = slots.get(req.user)!;
    // The users (slots) whose component grows on the way, in the order they were added.
    let pending = req.vector.increases(to, slots, pendingSlot, pendingTo);
    if (pending < 0) throw new Error(`state ${to} is not reachable from ${req.vector}`);
    for (let k = 0; k < pending; k++) {
      if (pendingSlot[k] === ownSlot) {
        pendingSlot.copyWithin(k, k + 1, pending);
        pendingTo.copyWithin(k, k + 1, pending);
        pending--;
        break;
      }
    }
    sortBySlot(pendingSlot, pendingTo, pending);
    // Per pending user, its next request as last looked up (at seenFrom): the index of its
    // undo/redo, its original, that original's dense vector, and how far the check that it is
    // causally before the state got.
    const seenFrom = this.seenFrom;
    const assocOf = this.assocOf;
    const blocker = this.blocker;
    const originalOf = this.originalOf;
    const denseOf = this.denseOf;
    for (let k = 0; k < pending; k++) seenFrom[k] = -1;
    const ownTo = to.get(req.user);
    if (state[ownSlot]! > ownTo) throw new Error(`state ${to} is not reachable from ${req.vector}`);
    let remaining = to.sum() - req.vector.sum();

    const base = this.top;
    let i = base;
    let hash = req.vector.rawHash();
    let nonzero = req.vector.users().length;
    while (remaining > 0) {
      let kind = MIRROR;
      let slot = ownSlot;
      let steps = 0;
      let original: Req | null = null;
      for (let k = 0; k < pending; k++) {
        const s = pendingSlot[k]!;
        const from = state[s]!;
        const toN = pendingTo[k]!;
        if (from === toN) {
          // Done with this user: close the gap, keeping the order.
          for (let m = k + 1; m < pending; m++) {
            pendingSlot[m - 1] = pendingSlot[m]!;
            pendingTo[m - 1] = pendingTo[m]!;
            seenFrom[m - 1] = seenFrom[m]!;
            assocOf[m - 1] = assocOf[m]!;
            blocker[m - 1] = blocker[m]!;
            originalOf[m - 1] = originalOf[m]!;
            denseOf[m - 1] = denseOf[m]!;
          }
          pending--;
          k--;
          continue;
        }
        if (seenFrom[k] !== from) {
          // The user's next request is new to this walk: look it up once.
          const log = users[s]!.log;
          seenFrom[k] = from;
          assocOf[k] = log.nextAssociatedIndex(from);
          const o = log.originalAt(from);
          originalOf[k] = o;
          denseOf[k] = o.vector.dense(slots);
          blocker[k] = 0;
        }
        const assoc = assocOf[k]!;
        if (assoc >= 0 && assoc < toN) {
          kind = FOLD;
          steps = assoc - from + 1;
        } else {
          // Is the original causally before the state? Components only grow along the walk, so
          // the components below the one that last said no still say yes: resume there.
          const d = denseOf[k];
          if (!d) continue;
          let j = blocker[k]!;
          while (j < d.length && d[j]! <= state[j]!) j++;
          blocker[k] = j;
          if (j < d.length) continue;
          kind = TRANSFORM;
          steps = 1;
          original = originalOf[k]!;
        }
        slot = s;
        break;
      }
      if (kind === MIRROR) steps = lateMirrorBy(users[ownSlot]!.log, state[ownSlot]!, ownTo, to);
      const user = users[slot]!.id;
      const old = state[slot]!;
      state[slot] = old + steps;
      hash = (hash + hashDelta(user, old, old + steps)) >>> 0;
      if (old === 0) nonzero++;
      remaining -= steps;
      if (i >= this.kinds.length) this.grow();
      if (i - base >= this.hashes.length) this.growScratch();
      this.kinds[i] = kind;
      this.users[i] = user;
      this.by[i] = steps;
      this.originals[i] = original;
      this.hashes[i - base] = hash;
      this.nonzeros[i - base] = nonzero;
      i++;
    }
    this.top = i;
    this.end = i;
    this.start = base;
    this.cached = null;

    // The last cached state on the path before the target (the caller looked the target up).
    if (!reqAffectsBuffer(req)) return;
    const log = users[ownSlot]!.log;
    for (let j = i - 1; j > base; j--) {
      // Back from the state after step j to the one after step j - 1.
      state[slots.get(this.users[j]!)!]! -= this.by[j]!;
      const found = log.cacheCandidates(state[ownSlot]!, this.hashes[j - 1 - base]! & 0x7fffffff);
      if (found === undefined) continue;
      const nz = this.nonzeros[j - 1 - base]!;
      let hit: Req | null = null;
      if (!Array.isArray(found)) {
        if ((found as Req).vector.equalsDense(state, slots, nz)) hit = found as Req;
      } else {
        for (const c of found as readonly Req[]) {
          if (c.vector.equalsDense(state, slots, nz)) {
            hit = c;
            break;
          }
        }
      }
      if (hit) {
        this.start = j;
        this.cached = hit;
        return;
      }
    }
  }

  private grow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    const users = new Float64Array(size);
    users.set(this.users);
    const by = new Float64Array(size);
    by.set(this.by);
    this.kinds = kinds;
    this.users = users;
    this.by = by;
  }

  private growScratch(): void {
    const hashes = new Float64Array(this.hashes.length * 2);
    hashes.set(this.hashes);
    const nonzeros = new Int32Array(this.nonzeros.length * 2);
    nonzeros.set(this.nonzeros);
    this.hashes = hashes;
    this.nonzeros = nonzeros;
  }
}

/**
 * The request at `from` was undone/redone later: the walk continues with its inverse, this many
 * own requests later.
 */
function lateMirrorBy(log: RequestLog, from: number, toN: number, to: StateVector): number {
  const entry = log.get(from);
  let assocIndex = log.nextAssociatedIndex(from);
  if (assocIndex < 0 && (entry.type === UNDO ? log.nextRedo() === entry : log.nextUndo() === entry)) {
    // The undo/redo being executed right now is not in the log yet.
    assocIndex = toN;
  }
  if (assocIndex < 0 || assocIndex > toN) throw new Error(`state ${to} is not reachable from request ${from} of user ${log.user}`);
  return assocIndex - from;
}

/** Sorts the first n slots ascending, with their targets (insertion sort: n is small, often sorted). */
function sortBySlot(slot: Int32Array, to: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const s = slot[i]!;
    const t = to[i]!;
    let j = i - 1;
    while (j >= 0 && slot[j]! > s) {
      slot[j + 1] = slot[j]!;
      to[j + 1] = to[j]!;
      j--;
    }
    slot[j + 1] = s;
    to[j + 1] = t;
  }
}
