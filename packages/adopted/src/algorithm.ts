/**
 * The adOPTed algorithm as libinfinity implements it (inf-adopted-algorithm.c): translation of a
 * request to any reachable state (folds, transformations, late mirrors, with the same choice order
 * and the same translation cache), execution, undo/redo admission and request-log cleanup.
 */
import { transformCaretDelete, transformCaretInsert } from './caret.js';
import { Chunk } from './chunk.js';
import { TextBuffer } from './buffer.js';
import { AdoptedError, AdoptedErrorDomain, AlgorithmErrorCode, TextOperationErrorCode, TranslationLimitError } from './errors.js';
import { affectsBuffer, deleteOp, feedRecon, isReversible, unsplit, type DeleteOp, type Op } from './operations.js';
import { DO, REDO, UNDO, fold, indexOf, mirror, reqAffectsBuffer, transformReq, type Req } from './request.js';
import { CommonState } from './common-state.js';
import { RequestLog } from './request-log.js';
import { FOLD, PathFinder, TRANSFORM } from './path.js';
import { StateVector, type UserId } from './state-vector.js';

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
/**
 * Vector components the translation cache may hold (cached translations times users), about
 * 30 bytes each with the objects around them. A steady session ages its cache long before that;
 * one whose requests are each concurrent with hundreds of others would otherwise fill gigabytes
 * (tandemd at K = 120 in bench/server: 3.5 GB within a minute). Below it fits what sessions
 * that can still keep up use: the translations used at some 25 concurrent requests among 50
 * users or 23 among 100 stay under three quarters of it (bench/engine/central.mjs), and the cost
 * of a request recomputed without them is what tips such a session over.
 */
const DEFAULT_CACHE_BUDGET = 16 * 1024 * 1024;

export class Algorithm {
  current: StateVector = StateVector.zero;
  readonly users: AlgoUser[] = [];
  /** Buffer-changing requests executed here so far: the next one's place in the order. */
  private executed = 0;
  private readonly byId = new Map<UserId, AlgoUser>();
  private changes: BufferChange[] = [];
  /** User id -> position in `users` (the dense form of state vectors in translation walks). */
  private readonly slots = new Map<UserId, number>();
  private readonly paths = new PathFinder(this.users, this.slots);
  /** Largest recent distance of an executed request from the current state (ageCache). */
  private recentDistance = 0;
  private sinceAging = 0;
  /** Most translation steps one execution may take (Infinity: as libinfinity, no bound). */
  maxSteps = Infinity;
  /** Vector components the translation cache may hold before it is emptied. */
  cacheBudget = DEFAULT_CACHE_BUDGET;
  /** Steps taken by the execution under way. */
  private steps = 0;
  /**
   * Whether the cleanup keeps its common state up to date and skips logs whose verdict still
   * holds (false: libinfinity's computation for every request, which tests compare it with).
   */
  incrementalCleanup = true;
  private readonly common = new CommonState();
  /** The common state's version at the last look at the logs. */
  private cleanedAt = -1;

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
    if (req.type === UNDO && !this.canUndo(u)) {
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.NO_UNDO, `The request "${req.vector}" from user "${u.name}" is an UNDO request but there is no request to be undone.`);
    }
    if (req.type === REDO && !this.canRedo(u)) {
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.NO_REDO, `The request "${req.vector}" from user "${u.name}" is a REDO request but there is no request to be redone.`);
    }
    const endBefore = u.log.end;
    // A translation that threw left its steps in the arena.
    this.paths.top = 0;
    this.steps = 0;
    let translated: Req | undefined;
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
      // Translated but not applicable (a move selecting past the end, a transformed insert beyond
      // it): libinfinity still reports the translated request as executed, with the error, and
      // that makes an inactive user active (inf_adopted_session_end_execute_request_cb).
      if (translated !== undefined && translated.op!.kind !== 'no-op' && u.status === 'inactive') u.status = 'active';
      if (e instanceof AdoptedError) {
        // The translated request is always at the current state.
        throw e.prefixed(`Failed to apply request "${req.vector}" from user "${u.name}" at state "${this.current}": `);
      }
      throw new AdoptedError(AdoptedErrorDomain.ALGORITHM, AlgorithmErrorCode.FAILED, `Failed to execute request "${req.vector}" from user "${u.name}": ${(e as Error).message}`);
    }
    if (reqAffectsBuffer(logged)) {
      u.log.add(logged, this.executed++);
      this.current = this.current.add(u.id, 1);
      this.ageCache(req.vector.vdiff(this.current));
      // inf_adopted_algorithm_update_local_user_times: local users are always up to date.
      for (const v of this.users) if (v.local) v.vector = this.current;
    }
    // A user doing anything but a no-op becomes active (inf_adopted_session_end_execute_request_cb).
    if (translated!.op!.kind !== 'no-op' && u.status === 'inactive') u.status = 'active';
    return { logged, changes: this.changes };
  }

  /** Vector components the translation cache holds now (cached translations times users). */
  get cacheComponents(): number {
    let held = 0;
    for (const u of this.users) held += u.log.cacheSize;
    return held * this.users.length;
  }

  /**
   * Forgets cached translations of requests that no request arriving now is likely to be
   * concurrent with: older than a few times the largest recent distance between a request and the
   * state it was executed at. The cache is a memo (a translation is the same whether computed or
   * looked up), so this only bounds memory: libinfinity keeps every translation until cleanup,
   * which at dozens of concurrent requests holds hundreds of thousands of them.
   */
  private ageCache(distance: number): void {
    // In a session whose requests are concurrent with hundreds of others (a server that has
    // fallen far behind), even what is recent is too much to keep: each translation holds a
    // vector of every user. Past cacheBudget components the least recently used translations go.
    const held = this.cacheComponents;
    if (held > this.cacheBudget) this.evictLeastUsed(held, (this.cacheBudget * 3) / 4);
    // The recent maximum decays by one every 16 requests.
    this.recentDistance = Math.max(distance, this.recentDistance - 1 / 16);
    if (++this.sinceAging < 32) return;
    this.sinceAging = 0;
    const keep = 64 + 4 * Math.ceil(this.recentDistance);
    const before = this.current.sum() - keep;
    if (before <= 0) return;
    for (const u of this.users) u.log.cacheAge(before);
  }

  /**
   * Forgets the translations of the requests whose translations were used least recently until
   * the cache holds at most `target` components. Emptying it instead drops what the next
   * requests need too: at some 19 concurrent requests among 100 users the translations in use
   * come to about 6 Mi components, and each request recomputed from nothing took seconds
   * (bench/engine/central.mjs; docs/benchmarks.md).
   */
  private evictLeastUsed(held: number, target: number): void {
    const width = this.users.length;
    const cached: { used: number; log: RequestLog; n: number; count: number }[] = [];
    for (const u of this.users) for (const [n, count, used] of u.log.cachedRequests()) cached.push({ used, log: u.log, n, count });
    cached.sort((a, b) => a.used - b.used);
    for (const c of cached) {
      if (held <= target) break;
      c.log.cacheDrop(c.n);
      held -= c.count * width;
    }
  }

  /**
   * inf_adopted_algorithm_cleanup: drops related sets that every available site has long passed.
   * The logs are looked at only when the common state has changed (in value) since the last look:
   * each look removes all it can, and with the same common state nothing more can go. A log that
   * stopped at a set keeps that set (a set only grows, at its upper end, which is harder to
   * drop), and a request logged since is not in the common state (which is at most the current
   * state of that look).
   */
  cleanup(): void {
    if (this.maxTotalLogSize >= UNLIMITED) return;
    // A request goes only once the common state is maxTotalLogSize requests past it; the common
    // state is at most the current one, so while the oldest logged request is nearer than that
    // to the current state nothing can go.
    let oldest = Infinity;
    for (const u of this.users) {
      const sum = u.log.firstSum;
      if (sum < oldest) oldest = sum;
    }
    if (this.current.sum() - oldest < this.maxTotalLogSize) return;
    let lcp: StateVector;
    if (this.incrementalCleanup) {
      lcp = this.common.state(this.users, this.current);
      if (this.common.version === this.cleanedAt) return;
      this.cleanedAt = this.common.version;
    } else {
      lcp = this.current.minAll(this.availableVectors());
    }
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

  private *availableVectors(): IterableIterator<StateVector> {
    for (const u of this.users) if (u.status !== 'unavailable') yield u.vector;
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
    const paths = this.paths;
    const base = paths.top;
    paths.find(req, to);
    let cur = paths.cached ?? req;
    const end = paths.end;
    // The arena may grow (be replaced) while translations below find their own paths: read it
    // through `paths` every time.
    for (let i = paths.start; i < end; i++) {
      // Each step costs time and keeps a translation (a vector of every user) in the cache: a
      // request concurrent with c others can take some c^3 of them, which a bound cuts short.
      if (++this.steps > this.maxSteps) {
        throw new TranslationLimitError(`Translating the request to the current state takes more than ${this.maxSteps} steps`);
      }
      const user = paths.users[i]!;
      switch (paths.kinds[i]) {
        case FOLD:
          cur = fold(cur, user, paths.by[i]!);
          break;
        case TRANSFORM: {
          // The other request at this state first, then this one (cache included), as
          // inf_adopted_algorithm_transform_request looks both up.
          const at = cur.vector;
          const against = this.translate(paths.originals[i]!, at);
          cur = transformReq(this.translate(cur, at), against);
          break;
        }
        default:
          cur = mirror(cur, paths.by[i]!);
          break;
      }
    }
    paths.top = base;
    return cur;
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
        // libinfinity adds the signed length to the unsigned caret in 32 bits (caret.ts).
        if (part.caret > len || (part.caret + part.selection) >>> 0 > len) {
          throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_MOVE, 'Attempt to move cursor or selection beyond the end of the document');
        }
        break;
      default:
        break;
    }
  }
}
