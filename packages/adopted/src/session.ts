/**
 * One site's copy of a text session (InfAdoptedSession + InfTextSession without I/O): users and
 * their vectors, decoding of diff-encoded request times, the wait queue for requests that are not
 * causally ready, num=K repetition, cleanup after every received request, local request
 * generation for a client, and synchronisation import/export.
 */
import { Algorithm, type AlgoUser, type BufferChange, type UserStatus } from './algorithm.js';
import { TextBuffer } from './buffer.js';
import { Chunk, type Segment } from './chunk.js';
import { AdoptedError, AdoptedErrorDomain, SessionErrorCode, TextOperationErrorCode } from './errors.js';
import { NOOP, deleteOp, insertOp, remoteDeleteOp, type Op } from './operations.js';
import { DO, REDO, UNDO, indexOf, reqAffectsBuffer, type Req, type ReqType } from './request.js';
import { RequestLog } from './request-log.js';
import { StateVector, StateVectorError, type UserId } from './state-vector.js';
import { userTableOrder } from './user-order.js';

export type { UserStatus, BufferChange };

/** An operation as it travels in a request. Positions and lengths count code points. */
export type Operation =
  | { readonly kind: 'insert'; readonly pos: number; readonly text: string }
  /** `removed` (the deleted text with authors) is present in synchronised and logged deletes. */
  | { readonly kind: 'delete'; readonly pos: number; readonly len: number; readonly removed?: readonly Segment[] }
  | { readonly kind: 'no-op' }
  | { readonly kind: 'move'; readonly caret: number; readonly selection: number };

/** What a request asks for, independent of who and when. */
export type RequestBody = { readonly type: 'do'; readonly op: Operation } | { readonly type: 'undo' } | { readonly type: 'redo' };

/** A request with its absolute state vector. */
export type Request = RequestBody & { readonly user: UserId; readonly vector: StateVector };

/** A request as received on the wire: `time` is the diff against the user's vector (protocol 5.5). */
export type IncomingRequest = RequestBody & { readonly user: UserId; readonly time: StateVector | string; readonly num?: number };

export interface UserInit {
  readonly id: UserId;
  readonly name?: string;
  readonly status?: UserStatus;
  /** The user's absolute vector (user-join/sync-user `time`); default: the zero vector. */
  readonly vector?: StateVector | string;
  readonly caret?: number;
  readonly selection?: number;
  /** A user of this site: its vector follows the current state and it can issue local requests. */
  readonly local?: boolean;
}

export interface UserInfo {
  readonly id: UserId;
  readonly name: string;
  readonly status: UserStatus;
  readonly vector: StateVector;
  readonly caret: number;
  readonly selection: number;
  readonly local: boolean;
}

export interface Executed {
  /** The request with its absolute vector (a received delete carries the removed text). */
  readonly request: Request;
  readonly changes: BufferChange[];
  readonly error?: AdoptedError;
}

export interface ReceiveResult {
  /** Requests executed by this call in order: the received one(s) and any that stopped waiting. */
  readonly executed: Executed[];
  /** Number of requests still waiting to become causally ready. */
  readonly waiting: number;
  /** Set when the request was rejected before execution (bad vector, unknown user, ...). */
  readonly error?: AdoptedError;
}

export interface LocalResult {
  readonly request: Request;
  /** The diff-encoded `time` to send. */
  readonly time: string;
  /** How many times the request was applied (num attribute when > 1). */
  readonly num: number;
  readonly changes: BufferChange[];
}

/** A complete session state as exchanged by synchronisation (protocol section 4). */
/** A synchronisation being received (AdoptedSession.receiveSync). */
export interface SyncReceiver {
  /** A synchronised user (sync-user); throws when its id came already. */
  user(init: UserInit): void;
  /** A logged request (sync-request), checked against the user's log so far. */
  request(r: Request): void;
  /** The text (sync-segments) and the end of the synchronisation: the site. */
  finish(segments: readonly Segment[]): AdoptedSession;
}

export interface SessionState {
  readonly users: readonly UserInit[];
  /** Every user's request-log entries, in log order; vectors absolute; deletes with `removed`. */
  readonly requests: readonly Request[];
  readonly segments: readonly Segment[];
}

export interface SessionOptions {
  /** max-total-log-size; default 2048; Infinity disables cleanup. */
  readonly maxTotalLogSize?: number;
  readonly segments?: Iterable<Segment>;
  readonly users?: readonly UserInit[];
}

interface SiteUser extends AlgoUser {
  /** Reference for diff-encoding this site's own requests (last_send_vector). */
  sendRef: StateVector;
}

function invalid(message: string): AdoptedError {
  return new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.INVALID_REQUEST, message);
}

function toVector(v: StateVector | string | undefined): StateVector {
  if (v === undefined) return StateVector.zero;
  if (typeof v !== 'string') return v;
  try {
    return StateVector.parse(v);
  } catch (e) {
    throw new AdoptedError(AdoptedErrorDomain.STATE_VECTOR, (e as StateVectorError).code ?? 0, (e as Error).message);
  }
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export class AdoptedSession {
  private readonly buf: TextBuffer;
  private readonly algo: Algorithm;
  private queue: Req[] = [];
  /** Per user, the last request vector that passed checkExecutable's consistency check. */
  private readonly consistent = new Map<UserId, StateVector>();

  constructor(options: SessionOptions = {}) {
    const max = options.maxTotalLogSize ?? 2048;
    if (!(max >= 0)) throw new RangeError('maxTotalLogSize must be >= 0');
    this.buf = new TextBuffer(options.segments ?? []);
    this.algo = new Algorithm(this.buf, max === Infinity ? Number.MAX_SAFE_INTEGER : max);
    // libinfinity builds the algorithm over a filled user table and visits it in its order.
    for (const u of userTableOrder(options.users ?? [])) this.addUser(u);
  }

  /**
   * Most translation steps (folds, transformations, mirrors) one request may take to reach the
   * current state; a request that needs more fails with TranslationLimitError, unexecuted.
   * Infinity (the default) is libinfinity's behaviour.
   */
  get maxTranslationSteps(): number {
    return this.algo.maxSteps;
  }

  set maxTranslationSteps(n: number) {
    if (!(n > 0)) throw new RangeError('maxTranslationSteps must be > 0');
    this.algo.maxSteps = n;
  }

  /** Vector components the translation cache holds now (against translationCacheBudget). */
  get translationCacheSize(): number {
    return this.algo.cacheComponents;
  }

  /**
   * Vector components (cached translations times users) the translation cache may hold; past
   * that, after the request that filled it, the translations used least recently are forgotten
   * until it holds three quarters. The cache is a memo: results are the same with any budget,
   * only time and memory differ.
   */
  get translationCacheBudget(): number {
    return this.algo.cacheBudget;
  }

  set translationCacheBudget(n: number) {
    if (!(n >= 0)) throw new RangeError('translationCacheBudget must be >= 0');
    this.algo.cacheBudget = n;
  }

  /** Builds a site from a synchronisation; throws AdoptedError if the data is inconsistent. */
  static fromSync(state: SessionState, options: { maxTotalLogSize?: number } = {}): AdoptedSession {
    const sync = AdoptedSession.receiveSync(options);
    for (const u of state.users) sync.user(u);
    for (const r of state.requests) sync.request(r);
    return sync.finish(state.segments);
  }

  /**
   * A synchronisation received message by message: each user and request is checked as it
   * arrives, as libinfinity checks each sync-user and sync-request (so a receiver can name the
   * message that is wrong), and `finish` checks what only the whole can show and builds the site.
   * Every method throws AdoptedError; after a throw the receiver is not to be used again.
   */
  static receiveSync(options: { maxTotalLogSize?: number } = {}): SyncReceiver {
    const s = new AdoptedSession();
    const pending = new Map<UserId, SiteUser>();
    let finished = false;
    return {
      user(init: UserInit): void {
        if (pending.has(init.id)) throw invalid(`User ${init.id} synchronised twice`);
        pending.set(init.id, s.makeUser(init));
      },
      request(r: Request): void {
        const u = pending.get(r.user);
        if (!u) throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.NO_SUCH_USER, `No such user with user ID '${r.user}'`);
        const req = s.toInternal(r, true);
        for (const id of req.vector.users()) if (!pending.has(id)) throw invalid(`Request vector "${req.vector}" refers to unknown user ${id}`);
        // inf_adopted_session_validate_request
        const n = indexOf(req);
        if (u.log.size > 0 && n !== u.log.end) throw invalid(`Request has index '${n}', but index '${u.log.end}' was expected`);
        if (req.type === UNDO && !u.log.nextUndo()) throw invalid('Undo received, but no previous request found');
        if (req.type === REDO && !u.log.nextRedo()) throw invalid('Redo received, but no previous request found');
        if (!reqAffectsBuffer(req)) throw invalid('Only buffer-changing requests can be synchronised');
        u.log.add(req);
      },
      finish(segments: readonly Segment[]): AdoptedSession {
        if (finished) throw new Error('the synchronisation was finished already');
        finished = true;
        // libinfinity builds the algorithm after the sync, visiting the user table in its order.
        const users = userTableOrder(pending.values());
        for (const u of users) {
          const own = u.vector.get(u.id);
          if (u.log.size === 0) u.log.setBegin(own);
          else if (u.log.end !== own) throw invalid(`User ${u.id} has vector "${u.vector}" but requests up to index ${u.log.end}`);
        }
        // The site is built with its text (the buffer cuts a bulk load into pieces that keep
        // later edits cheap); `s` only read the users and requests.
        const site = new AdoptedSession({ maxTotalLogSize: options.maxTotalLogSize, segments });
        for (const u of users) site.algo.addUser(u);
        return site;
      },
    };
  }

  /** The state to synchronise to a new subscriber (users in libinfinity's order, each user's log in order, buffer). */
  exportSync(): SessionState {
    const users = userTableOrder(this.algo.users);
    const requests: Request[] = [];
    for (const u of users) for (const r of u.log.requests()) requests.push(toPublic(r));
    return { users: users.map((u) => this.info(u)), requests, segments: this.buf.segments() };
  }

  get text(): string {
    return this.buf.text;
  }

  /** Document length in code points. */
  get length(): number {
    return this.buf.length;
  }

  /** Maximal runs of equal author. */
  segments(): Segment[] {
    return this.buf.segments();
  }

  /** The text of `len` code points from `pos`, with authors. */
  slice(pos: number, len: number): Segment[] {
    return this.buf.slice(pos, len).segments();
  }

  get current(): StateVector {
    return this.algo.current;
  }

  get maxTotalLogSize(): number {
    return this.algo.maxTotalLogSize;
  }

  /** Requests waiting until their vector is reached. */
  get waiting(): number {
    return this.queue.length;
  }

  addUser(init: UserInit): void {
    if (!isCount(init.id) || init.id === 0) throw invalid(`Invalid user ID '${init.id}'`);
    if (this.algo.user(init.id)) throw invalid(`User ${init.id} exists already`);
    this.algo.addUser(this.makeUser(init));
  }

  /** Changes a user's properties, e.g. on rejoin (new vector) or a status change. */
  updateUser(id: UserId, props: Omit<UserInit, 'id'>): void {
    const u = this.siteUser(id);
    if (props.name !== undefined) u.name = props.name;
    if (props.status !== undefined) u.status = props.status;
    if (props.caret !== undefined) u.caret = props.caret;
    if (props.selection !== undefined) u.selection = props.selection;
    if (props.local !== undefined) u.local = props.local;
    if (props.vector !== undefined) {
      u.vector = toVector(props.vector);
      u.sendRef = u.vector;
    }
    if (u.local) u.vector = this.algo.current;
  }

  user(id: UserId): UserInfo | undefined {
    const u = this.algo.user(id) as SiteUser | undefined;
    return u && this.info(u);
  }

  users(): UserInfo[] {
    return this.algo.users.map((u) => this.info(u as SiteUser));
  }

  /** V_u, the reference for decoding this user's next diff-encoded `time`. */
  userVector(id: UserId): StateVector {
    return this.siteUser(id).vector;
  }

  /** The absolute vector of a request with diff `time` from `user` received now (V_u + time). */
  decodeTime(user: UserId, time: StateVector | string): StateVector {
    return this.siteUser(user).vector.plus(toVector(time));
  }

  canUndo(user: UserId): boolean {
    return this.algo.canUndo(this.siteUser(user));
  }

  canRedo(user: UserId): boolean {
    return this.algo.canRedo(this.siteUser(user));
  }

  /** The user's request log range [begin, end). */
  logRange(user: UserId): { begin: number; end: number } {
    const log = this.siteUser(user).log;
    return { begin: log.begin, end: log.end };
  }

  /** Receives a request from the network (diff-encoded time), as inf_adopted_session_process_xml_run. */
  receive(incoming: IncomingRequest): ReceiveResult {
    let req: Req;
    let num: number;
    try {
      const u = this.algo.user(incoming.user) as SiteUser | undefined;
      if (!u) throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.NO_SUCH_USER, `No such user with user ID '${incoming.user}'`);
      num = incoming.num ?? 1;
      if (!isCount(num)) throw invalid(`Invalid num '${incoming.num}'`);
      const diff = toVector(incoming.time);
      const vector = u.vector.plus(diff);
      if (diff.get(u.id) !== 0) {
        throw invalid(`Request "${vector}" by user "${u.name}" is not consecutive with respect to previously received request "${u.vector}"`);
      }
      req = this.toInternal(incoming, false, vector);
    } catch (e) {
      return { executed: [], waiting: this.queue.length, error: asAdoptedError(e) };
    }
    return this.submit(req, num);
  }

  /** Receives a request whose vector is absolute (otherwise like receive). */
  receiveRequest(request: Request, num = 1): ReceiveResult {
    let req: Req;
    try {
      const u = this.algo.user(request.user) as SiteUser | undefined;
      if (!u) throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.NO_SUCH_USER, `No such user with user ID '${request.user}'`);
      if (!isCount(num)) throw invalid(`Invalid num '${num}'`);
      if (!u.vector.causallyBefore(request.vector) || request.vector.get(u.id) !== u.vector.get(u.id)) {
        throw invalid(`Request "${request.vector}" by user "${u.name}" is not consecutive with respect to previously received request "${u.vector}"`);
      }
      req = this.toInternal(request, false);
    } catch (e) {
      return { executed: [], waiting: this.queue.length, error: asAdoptedError(e) };
    }
    return this.submit(req, num);
  }

  /** Runs request-log cleanup now (receive does this after every request). */
  cleanup(): void {
    this.algo.cleanup();
  }

  localInsert(user: UserId, pos: number, text: string): LocalResult {
    const u = this.localUser(user);
    if (!isCount(pos) || pos > this.buf.length) {
      throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_INSERT, 'Attempt to insert text after the end of the document');
    }
    return this.local(u, DO, insertOp(pos, Chunk.fromText(text, u.id)), 1);
  }

  localDelete(user: UserId, pos: number, len: number): LocalResult {
    const u = this.localUser(user);
    if (!isCount(pos) || !isCount(len) || pos + len > this.buf.length) {
      throw new AdoptedError(AdoptedErrorDomain.TEXT_OPERATION, TextOperationErrorCode.INVALID_DELETE, 'Attempt to remove text from after the end of the document');
    }
    return this.local(u, DO, deleteOp(pos, this.buf.slice(pos, len)), 1);
  }

  /** Undoes the user's last `num` requests (inf_adopted_session_undo); one request with num=K. */
  localUndo(user: UserId, num = 1): LocalResult {
    return this.local(this.localUser(user), UNDO, null, num);
  }

  localRedo(user: UserId, num = 1): LocalResult {
    return this.local(this.localUser(user), REDO, null, num);
  }

  localMove(user: UserId, caret: number, selection: number): LocalResult {
    const u = this.localUser(user);
    return this.local(u, DO, { kind: 'move', caret, selection }, 1);
  }

  /** A no-op that advertises this site's state (the 30 s keep-alive); not executed, as libinfinity. */
  localNoop(user: UserId): LocalResult {
    const u = this.localUser(user);
    const vector = this.algo.current;
    const time = vector.minus(u.sendRef).toString();
    u.sendRef = vector;
    return { request: { type: 'do', op: { kind: 'no-op' }, user: u.id, vector }, time, num: 1, changes: [] };
  }

  private local(u: SiteUser, type: ReqType, op: Op | null, num: number): LocalResult {
    if (!isCount(num) || num < 1) throw invalid(`Invalid num '${num}'`);
    const first: Req = { type, user: u.id, vector: this.algo.current, op };
    const changes: BufferChange[] = [];
    let done = 0;
    for (; done < num; done++) {
      const req: Req = done === 0 ? first : { type, user: u.id, vector: this.algo.current, op };
      // Undo/redo errors (nothing to undo) surface before anything changes.
      if (done > 0 && ((type === UNDO && !this.algo.canUndo(u)) || (type === REDO && !this.algo.canRedo(u)))) break;
      changes.push(...this.algo.execute(req).changes);
    }
    const time = first.vector.minus(u.sendRef).toString();
    u.sendRef = reqAffectsBuffer(first) ? first.vector.add(u.id, done) : first.vector;
    return { request: toPublic(first), time, num: done, changes };
  }

  /** Executes or queues `num` copies of a received request, then drains the queue and cleans up. */
  private submit(req: Req, num: number): ReceiveResult {
    const u = this.algo.user(req.user) as SiteUser;
    const executed: Executed[] = [];
    let error: AdoptedError | undefined;
    u.vector = req.vector;
    let i = 0;
    for (; i < num; i++) {
      const copy: Req = i === 0 ? req : { type: req.type, user: req.user, vector: req.vector.add(u.id, i), op: req.op };
      const result = this.process(copy);
      // The user's vector advances even if the request failed, exactly as libinfinity's.
      if (reqAffectsBuffer(copy)) u.vector = copy.vector.add(u.id, 1);
      if (result) {
        executed.push(result);
        if (result.error) {
          error = result.error;
          break;
        }
      }
    }
    if (i > 0) this.drain(executed);
    this.algo.cleanup();
    return error ? { executed, waiting: this.queue.length, error } : { executed, waiting: this.queue.length };
  }

  /** Executes `req` if causally ready and nothing of its user waits before it; else queues it. */
  private process(req: Req): Executed | null {
    if (!req.vector.causallyBefore(this.algo.current) || this.queue.some((q) => q.user === req.user)) {
      this.queue.push(req);
      return null;
    }
    return this.run(req);
  }

  /** Runs queued requests that became ready, oldest first, keeping each user's own order. */
  private drain(out: Executed[]): void {
    for (;;) {
      const blocked = new Set<UserId>();
      let found = -1;
      for (let k = 0; k < this.queue.length; k++) {
        const q = this.queue[k]!;
        if (blocked.has(q.user)) continue;
        if (q.vector.causallyBefore(this.algo.current)) {
          found = k;
          break;
        }
        blocked.add(q.user);
      }
      if (found < 0) return;
      const [req] = this.queue.splice(found, 1);
      out.push(this.run(req!));
    }
  }

  private run(req: Req): Executed {
    try {
      this.checkExecutable(req);
      const { logged, changes } = this.algo.execute(req);
      return { request: toPublic(logged), changes };
    } catch (e) {
      return { request: toPublic(req), changes: [], error: asAdoptedError(e) };
    }
  }

  /**
   * Rejects requests libinfinity would abort on: a stale index, and vectors that are not a
   * consistent cut or reach into requests already cleaned up.
   */
  private checkExecutable(req: Req): void {
    const n = indexOf(req);
    const own = this.algo.current.get(req.user);
    if (n !== own) throw invalid(`Request has index '${n}', but index '${own}' was expected`);
    // A component equal to that of the user's last checked vector (which this one succeeds) was
    // consistent then and stays so: each user's requests have growing vectors. Only the others
    // need the O(n) comparison, which would otherwise make a request cost O(users^2).
    const last = this.consistent.get(req.user);
    const base = last !== undefined && last.causallyBefore(req.vector) ? last : undefined;
    const covered = this.coveredPrefix(req.vector);
    const ids = req.vector.users();
    // The current state's and the base's counts beside the vector's, in one walk each: with a
    // thousand users a search per component would be most of a request's cost.
    const current = this.scratch(0, ids.length);
    req.vector.alignedCounts(this.algo.current, current);
    const before = base === undefined ? undefined : this.scratch(1, ids.length);
    if (base !== undefined) req.vector.alignedCounts(base, before!);
    for (let i = 0; i < ids.length; i++) {
      const w = ids[i]!;
      const k = req.vector.countAt(i);
      if (k < current[i]! && k < this.algo.user(w)!.log.begin) {
        throw invalid(`Request "${req.vector}" refers to requests of user ${w} that are no longer in the log`);
      }
      if (before !== undefined && before[i] === k) continue;
      const v = this.algo.user(w)!;
      if (k > 0 && v.log.has(k - 1)) {
        // Request k-1 was executed here before everything the vector lacks: its own vector is
        // within the state it was executed at, which is within this one (see coveredPrefix).
        const seq = v.log.seqOf(k - 1);
        if (seq >= 0 && seq < covered) continue;
      }
      if (k > 0 && v.log.has(k - 1) && !v.log.get(k - 1).vector.causallyBefore(req.vector)) {
        throw invalid(`Request vector "${req.vector}" is inconsistent: request ${k - 1} of user ${w} was made at "${v.log.get(k - 1).vector}"`);
      }
    }
    this.consistent.set(req.user, req.vector);
  }

  /**
   * How many of the requests this site executed `vector` contains as a whole prefix of the
   * execution order: the place of the first executed request it lacks (Infinity: none). Every
   * request's vector is within the state it was executed at, so a request executed before that
   * place has a vector within `vector`. -1 when the vector lacks a request not executed here (one
   * that came with the synchronisation or was cleaned up): nothing is known then.
   */
  private coveredPrefix(vector: StateVector): number {
    // Only users with a component in the current state can be ahead of the vector.
    const cur = this.algo.current;
    const ids = cur.users();
    const mine = this.scratch(2, ids.length);
    cur.alignedCounts(vector, mine);
    let covered = Infinity;
    for (let i = 0; i < ids.length; i++) {
      const k = mine[i]!;
      if (k >= cur.countAt(i)) continue;
      const v = this.algo.user(ids[i]!)!;
      const seq = v.log.has(k) ? v.log.seqOf(k) : -1;
      if (seq < 0) return -1;
      if (seq < covered) covered = seq;
    }
    return covered;
  }

  /** Reusable arrays of the consistency check (three, by `which`), at least `size` long. */
  private readonly scratches: Float64Array[] = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];
  private scratch(which: number, size: number): Float64Array {
    if (this.scratches[which]!.length < size) this.scratches[which] = new Float64Array(size * 2);
    return this.scratches[which]!;
  }

  /** Converts a public request to the internal form, validating its fields. */
  private toInternal(r: RequestBody & { readonly user: UserId }, forSync: boolean, vector = (r as Request).vector): Req {
    // `vector` is passed apart for received requests so that they need not be copied to add it.
    for (const id of vector.users()) {
      if (!this.algo.user(id) && !forSync) throw invalid(`Request vector "${vector}" refers to unknown user ${id}`);
    }
    switch (r.type) {
      case 'undo':
        return { type: UNDO, user: r.user, vector, op: null };
      case 'redo':
        return { type: REDO, user: r.user, vector, op: null };
      case 'do':
        return { type: DO, user: r.user, vector, op: this.toOp(r.user, r.op, forSync) };
      default:
        throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.MISSING_OPERATION, 'Operation for request missing');
    }
  }

  private toOp(user: UserId, op: Operation, forSync: boolean): Op {
    switch (op?.kind) {
      case 'insert':
        if (!isCount(op.pos) || typeof op.text !== 'string') throw invalid('Invalid insert operation');
        return insertOp(op.pos, Chunk.fromText(op.text, user));
      case 'delete': {
        if (!isCount(op.pos)) throw invalid('Invalid delete operation');
        if (op.removed) {
          const chunk = Chunk.fromSegments(op.removed);
          if (op.len !== undefined && op.len !== chunk.length && !forSync) throw invalid('Delete length does not match the removed text');
          return deleteOp(op.pos, chunk);
        }
        if (forSync || !isCount(op.len)) throw invalid('Invalid delete operation');
        return remoteDeleteOp(op.pos, op.len);
      }
      case 'move':
        if (!isCount(op.caret) || !Number.isSafeInteger(op.selection)) throw invalid('Invalid move operation');
        return { kind: 'move', caret: op.caret, selection: op.selection };
      case 'no-op':
        return NOOP;
      default:
        throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.MISSING_OPERATION, 'Operation for request missing');
    }
  }

  private makeUser(init: UserInit): SiteUser {
    const vector = toVector(init.vector);
    const local = init.local ?? false;
    return {
      id: init.id,
      name: init.name ?? `User_${init.id}`,
      status: init.status ?? 'active',
      vector: local ? this.algo.current : vector,
      sendRef: vector,
      caret: init.caret ?? 0,
      selection: init.selection ?? 0,
      local,
      log: new RequestLog(init.id, vector.get(init.id)),
    };
  }

  private siteUser(id: UserId): SiteUser {
    const u = this.algo.user(id) as SiteUser | undefined;
    if (!u) throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.NO_SUCH_USER, `No such user with user ID '${id}'`);
    return u;
  }

  private localUser(id: UserId): SiteUser {
    const u = this.siteUser(id);
    if (!u.local) throw new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.FAILED, `User ${id} is not a local user of this site`);
    return u;
  }

  private info(u: SiteUser | AlgoUser): UserInfo {
    return { id: u.id, name: u.name, status: u.status, vector: u.vector, caret: u.caret, selection: u.selection, local: u.local };
  }
}

function asAdoptedError(e: unknown): AdoptedError {
  if (e instanceof AdoptedError) return e;
  return new AdoptedError(AdoptedErrorDomain.SESSION, SessionErrorCode.FAILED, (e as Error)?.message ?? String(e));
}

/** The public form of an internal request. */
function toPublic(r: Req): Request {
  if (r.type === UNDO) return { type: 'undo', user: r.user, vector: r.vector };
  if (r.type === REDO) return { type: 'redo', user: r.user, vector: r.vector };
  return { type: 'do', user: r.user, vector: r.vector, op: opToPublic(r.op!) };
}

function opToPublic(op: Op): Operation {
  switch (op.kind) {
    case 'insert':
      return { kind: 'insert', pos: op.pos, text: op.chunk.text };
    case 'delete':
      return op.chunk ? { kind: 'delete', pos: op.pos, len: op.len, removed: op.chunk.segments() } : { kind: 'delete', pos: op.pos, len: op.len };
    case 'no-op':
      return { kind: 'no-op' };
    case 'move':
      return { kind: 'move', caret: op.caret, selection: op.selection };
    case 'split':
      throw new Error('split operations are internal');
  }
}



