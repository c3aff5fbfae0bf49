/**
 * A hosted InfText session (infd-session-proxy.c + inf-adopted-session.c + inf-text-session.c,
 * server side, central method): subscribers, users, synchronisation of new subscribers,
 * requests executed by the engine and relayed verbatim to the other members.
 */
import {
  AdoptedError, AdoptedErrorDomain, AdoptedSession, AlgorithmErrorCode, StateVector, TranslationLimitError, isInvalidMove, userTableOrder,
  type Executed,
} from '@tandem/adopted';
import {
  Element, ErrorCodes, InfError, type WireOperation, decodeRequestAndTime, decodeUserColorChange,
  decodeUserJoinRequest, decodeUserStatusChange, encodeInvalidRequest, encodeRequest, encodeSignal, encodeSyncBegin,
  encodeUser, encodeUserStatusChange, requestBodyFromWire,
  SerializedElement, splitSegments, syncRequestXml, syncSegmentXml, toRequestFailed, wireSyncOf,
  type UserStatus, type WireUser,
} from '@tandem/protocol';
import type { SessionJournal } from '../storage/journal.js';
import type { StoredTextDocument, StoredUser } from '../storage/text-format.js';
import { type Member, MemberTable, PreparedGroupRun, type SessionAccess, UserIdCounter, replySeq } from './members.js';
import { type SessionLimits, codePointLength } from '../limits.js';

export type { Member, SessionAccess } from './members.js';

/** What the engine does not keep: the colour and the connection a user joined through. */
export interface SessionUser {
  id: number;
  name: string;
  hue: number;
  /** The member the user joined through; undefined while unavailable and for local users. */
  member: Member | undefined;
  /** A server-side user (joinLocal), editing through localEdit; never a client's. */
  local?: boolean;
}

/** An edit by a server-side user; positions and lengths count code points. */
export type LocalEdit = { kind: 'insert'; pos: number; text: string } | { kind: 'delete'; pos: number; len: number };

/**
 * A session's start: the engine (text, request logs, users' vectors, carets and statuses; users
 * not bound to a connection of ours unavailable, §4.1, §7.2) and what the protocol adds to users.
 */
export interface InitialState {
  engine: AdoptedSession;
  users: { id: number; name: string; hue: number; member?: Member }[];
  /** The user id counter when the session was built as its users arrived (an upload); else it counts over the user table's order. */
  ids?: UserIdCounter;
}

export interface SessionContext {
  /** The member's sequence id, for `seq="ID/N"` replies. */
  seqId(member: Member): number;
  log(line: string): void;
  /** Users per session and document length (limits.ts), read at each check; none when absent. */
  limits?: SessionLimits;
  /** Called when the session has no subscribers left (the owner starts its idle timer). */
  idle(session: TextSession): void;
  /** Plugin hooks (plugins/bridge.ts). */
  hooks?: TextSessionHooks;
  /** The crash journal: every executed change is written here before it is relayed. */
  journal?: SessionJournal;
}

/** What a session tells plugins; `m` is the connection the user or message came through. */
export interface TextSessionHooks {
  /** A returned reason rejects the request and unsubscribes `m` (InfAdoptedSession::check-request). */
  checkRequest(s: TextSession, m: Member, user: { id: number; name: string }, vector: StateVector, current: StateVector): string | undefined;
  /** Times in microseconds since the epoch; `m` is undefined for a server-side user's request. */
  requestExecuted(s: TextSession, m: Member | undefined, user: { id: number; name: string }, executed: Executed, received: number, at: number): void;
  userAdded(s: TextSession, user: WireUser): void;
  /** A client's user joined, rejoined, left or changed between unavailable and available. */
  usersChanged?(s: TextSession): void;
  sessionError(s: TextSession, m: Member, message: Element, error: string): void;
}

/** g_get_real_time(): wall clock in microseconds. */
function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class TextSession {
  private readonly members: MemberTable<SessionUser>;
  private readonly users = new Map<number, SessionUser>();
  private readonly ids: UserIdCounter;
  /**
   * The vector each server-side user's last request was sent at (+1 own), which clients decode
   * its next diff-encoded `time` against: announced instead of its always-current vector, as
   * inf_adopted_session_set_xml_user_props does with last_send_vector.
   */
  private readonly lastSent = new Map<number, StateVector>();
  /** The adOPTed site of the server: buffer, request logs, user vectors and carets. */
  private readonly engine: AdoptedSession;
  /**
   * The sync-segment messages of the text at state `state` (the buffer changes only with the
   * state), serialised and encoded once: subscribers joining a document that has not changed since
   * the last synchronisation (a class opening the same big document) share those bytes. Dropped
   * at the next change of the text.
   */
  private segmentCache: { state: string; run: PreparedGroupRun } | undefined;
  /** Set when the buffer or its authors changed since the last save. */
  modified = false;

  constructor(
    readonly group: string,
    state: InitialState,
    private readonly ctx: SessionContext,
  ) {
    this.engine = state.engine;
    this.members = new MemberTable(group, {
      users: () => this.users.values(),
      available: (u) => this.status(u.id) !== 'unavailable',
      setUnavailable: (u) => this.setStatus(u.id, 'unavailable'),
      handlers: new Map([
        ['user-join', (m, el, access) => this.userJoin(m, el, access.joinUser)],
        ['request', (m, el) => this.request(m, el)],
        ['user-status-change', (m, el) => this.statusChange(m, el)],
        ['user-color-change', (m, el) => this.colorChange(m, el)],
      ]),
      log: (line) => ctx.log(line),
      failed: (m, el, err) => ctx.hooks?.sessionError(this, m, el, err.message),
      usersLeft: () => ctx.hooks?.usersChanged?.(this),
      idle: () => ctx.idle(this),
    });
    this.ids = state.ids ?? new UserIdCounter(userTableOrder(state.users).map((u) => u.id));
    for (const u of state.users) {
      const user = { id: u.id, name: u.name, hue: u.hue, member: u.member };
      this.users.set(u.id, user);
      if (user.member) this.members.joined(user);
    }
  }

  /** A document from storage: all users unavailable, zero vectors, no history (§7.2). */
  static fromStored(group: string, doc: StoredTextDocument, ctx: SessionContext): TextSession {
    const engine = AdoptedSession.fromSync({
      users: doc.users.map((u) => ({ id: u.id, name: u.name, status: 'unavailable', vector: StateVector.zero, caret: 0, selection: 0 })),
      requests: [],
      segments: doc.segments,
    });
    return new TextSession(group, { engine, users: doc.users }, ctx);
  }

  private status(id: number): UserStatus {
    return this.engine.user(id)?.status ?? 'unavailable';
  }

  private setStatus(id: number, status: UserStatus): void {
    // The engine's cleanup only waits for users that are not unavailable (§6.7).
    this.engine.updateUser(id, { status });
  }

  get subscriberCount(): number {
    return this.members.size;
  }

  isSubscribed(m: Member): boolean {
    return this.members.has(m);
  }

  /** Contents for storage: authoring users and the buffer runs. */
  toStored(): StoredTextDocument {
    return { users: this.storedUsers(), segments: this.engine.segments() };
  }

  /** Every user with what storage keeps of it. */
  storedUsers(): StoredUser[] {
    return [...this.users.values()].map((u) => ({ id: u.id, name: u.name, hue: u.hue }));
  }

  /** The buffer as plain text (for tests and tools). */
  text(): string {
    return this.engine.segments().map((s) => s.text).join('');
  }

  /**
   * Adds a subscriber. With `synchronize` it gets the whole state (§4) and is ignored until its
   * sync-ack; without (a node it just created, or a sync-in uploader) it is ready at once.
   */
  subscribe(m: Member, synchronize: boolean): void {
    this.members.add(m, synchronize);
    if (synchronize) this.synchronize(m);
  }

  private wireUser(u: SessionUser): WireUser {
    const e = this.engine.user(u.id)!;
    const time = (u.local ? this.lastSent.get(u.id) : undefined) ?? e.vector;
    return { id: u.id, name: u.name, status: e.status, time, caret: e.caret, selection: e.selection, hue: u.hue };
  }

  private synchronize(m: Member): void {
    const { head, segments, end } = this.syncParts();
    m.sendGroup(this.group, ...head);
    segments.sendTo(m);
    m.sendGroup(this.group, end);
  }

  /** The whole state as a synchronisation (§4): sync-begin, users, requests, segments, sync-end. */
  syncMessages(): Element[] {
    const { head, segments, end } = this.syncParts();
    return [...head, ...segments.messages, end];
  }

  private syncParts(): { head: Element[]; segments: PreparedGroupRun; end: Element } {
    const users = userTableOrder(this.users.values());
    const requests = this.engine.exportSync().requests.map(wireSyncOf);
    const segments = this.segmentRun();
    const head: Element[] = [encodeSyncBegin(users.length + requests.length + segments.messages.length)];
    for (const u of users) head.push(encodeUser('sync-user', this.wireUser(u)));
    // Requests and segments (thousands for a long document) go out as text, not element trees.
    for (const r of requests) head.push(new SerializedElement(syncRequestXml(r)));
    return { head, segments, end: encodeSignal('sync-end') };
  }

  /** The sync-segment messages of the current text, shared while the text does not change. */
  private segmentRun(): PreparedGroupRun {
    const state = this.engine.current.toString();
    if (this.segmentCache?.state !== state) {
      const messages = splitSegments(this.engine.segments()).map((s) => new SerializedElement(syncSegmentXml(s)));
      this.segmentCache = { state, run: new PreparedGroupRun(this.group, messages) };
    }
    return this.segmentCache.run;
  }

  /** Tells every subscriber the session is gone (node removed, shutdown) and forgets them. */
  close(): void {
    this.members.close();
  }

  /** Unsubscribe or disconnect: the member's users become unavailable for everyone else (§5.3). */
  removeMember(m: Member): void {
    this.members.remove(m);
  }

  private broadcast(el: Element, except?: Member, requester?: Member): void {
    this.members.broadcast(el, except, requester);
  }

  /**
   * One message from a member in this session's group. `access.joinUser` is the member's
   * can-join-user permission on the note, checked by the directory beforehand because ACLs load
   * asynchronously (infd_directory_session_reject_user_join_cb).
   */
  handle(m: Member, el: Element, access: SessionAccess = { joinUser: true }): void {
    this.members.handle(m, el, access);
  }

  private userJoin(m: Member, el: Element, allowed: boolean): void {
    // infd_session_proxy_make_seq comes first: an invalid seq fails the join.
    let seq: string | undefined;
    try {
      seq = replySeq(el, this.ctx.seqId(m));
      const inUse = (name: string): SessionUser | undefined => [...this.users.values()].find((u) => u.name === name);
      const req = decodeUserJoinRequest(el, (name) => {
        const user = inUse(name);
        if (user && this.status(user.id) !== 'unavailable') {
          throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.NAME_IN_USE, `Name "${name}" already in use`);
        }
      });
      if (req.time === undefined) {
        throw new InfError('INF_ADOPTED_SESSION_ERROR', ErrorCodes.INF_ADOPTED_SESSION_ERROR.MISSING_STATE_VECTOR, '"time" attribute in user message is missing');
      }
      if (req.caret === undefined) {
        throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NO_SUCH_ATTRIBUTE, '"caret" attribute in user message is missing');
      }
      // infinoted lets a user join at a state the session has not reached, which no later request can be consistent with.
      if (!req.time.causallyBefore(this.engine.current)) {
        throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.INVALID_ATTRIBUTE, `The state "${req.time.toString()}" is ahead of the session "${this.engine.current.toString()}"`);
      }
      // A caret beyond the text is put at its end (infinoted keeps and relays it as given).
      const caret = Math.min(req.caret, this.engine.length);
      const existing = inUse(req.name);
      // The ACL is consulted after the request was validated (infd_session_proxy_perform_user_join).
      if (!allowed) throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NOT_AUTHORIZED, 'Permission denied');
      // Users stay in the document for good, so a flood of new names is refused; a known name may rejoin.
      const maxUsers = this.ctx.limits?.maxUsersPerSession ?? Infinity;
      if (!existing && this.users.size >= maxUsers) {
        this.ctx.log(`Session ${this.group}: refused user "${req.name}" of ${m.remote}: ${this.users.size} users, the limit (max-users-per-session)`);
        throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.FAILED, `The session has ${this.users.size} users, the most the server allows`);
      }
      // A rejoin keeps the id and overwrites everything else (§5.2).
      const props = { name: req.name, status: req.status ?? 'active', vector: req.time, caret, selection: req.selection ?? 0, local: false } as const;
      let user: SessionUser;
      if (existing) {
        user = existing;
        user.local = false;
        this.engine.updateUser(user.id, props);
      } else {
        user = { id: this.ids.take(this.users), name: req.name, hue: 0, member: undefined };
        this.engine.addUser({ id: user.id, ...props });
        this.users.set(user.id, user);
      }
      // No hue, or one that does not parse: a random one. Out of range: GLib refuses to set it, so
      // a new user keeps the default 0 and a rejoining one its hue.
      user.hue = req.hue === undefined ? Math.random() : req.hue >= 0 && req.hue <= 1 ? req.hue : existing ? user.hue : 0;
      user.member = m;
      this.members.joined(user);
      this.ctx.journal?.user({ id: user.id, name: user.name, hue: user.hue });
      this.broadcast(encodeUser(existing ? 'user-rejoin' : 'user-join', this.wireUser(user), seq), undefined, m);
      if (!existing) this.ctx.hooks?.userAdded(this, this.wireUser(user));
    } catch (err) {
      const e = err instanceof InfError ? err : new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.FAILED, (err as Error).message);
      m.sendGroup(this.group, toRequestFailed(e, seq));
      return;
    }
    this.ctx.hooks?.usersChanged?.(this);
  }

  // ---- server-side users (infd_session_proxy_join_user without a connection) ----------------

  /** Buffer length in code points. */
  get length(): number {
    return this.engine.length;
  }

  /** Users joined by clients that are not unavailable (InfUser without INF_USER_LOCAL). */
  availableClientUsers(): number {
    let n = 0;
    for (const u of this.users.values()) if (!u.local && u.member && this.status(u.id) !== 'unavailable') n++;
    return n;
  }

  /**
   * Joins a server-side user: a local user of the server's engine, announced to every subscriber
   * with user-join (user-rejoin for a known unavailable name) without seq, as infinoted does for
   * its plugins' users. Its vector follows the current state, so it never holds back cleanup.
   * Throws InfError INF_USER_ERROR 0 when a client's user has the name.
   */
  joinLocal(name: string, hue: number): number {
    const existing = [...this.users.values()].find((u) => u.name === name);
    if (existing && this.status(existing.id) !== 'unavailable') {
      throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.NAME_IN_USE, `Name "${name}" already in use`);
    }
    const props = { name, status: 'active', vector: this.engine.current, caret: this.engine.length, selection: 0, local: true } as const;
    let user: SessionUser;
    if (existing) {
      user = existing;
      this.engine.updateUser(user.id, props);
    } else {
      user = { id: this.ids.take(this.users), name, hue, member: undefined };
      this.engine.addUser({ id: user.id, ...props });
      this.users.set(user.id, user);
    }
    user.local = true;
    this.lastSent.set(user.id, this.engine.current);
    user.hue = hue;
    user.member = undefined;
    this.ctx.journal?.user({ id: user.id, name: user.name, hue: user.hue });
    this.broadcast(encodeUser(existing ? 'user-rejoin' : 'user-join', this.wireUser(user)));
    if (!existing) this.ctx.hooks?.userAdded(this, this.wireUser(user));
    return user.id;
  }

  /**
   * An edit by a joined server-side user: executed by the engine and sent to every subscriber
   * as a request, exactly like a client's (inf_adopted_session_broadcast_request).
   */
  localEdit(id: number, edit: LocalEdit): void {
    const user = this.users.get(id);
    if (!user?.local || this.status(id) === 'unavailable') throw new Error(`User ${id} is not an available server-side user`);
    const at = nowMicros();
    const r = edit.kind === 'insert' ? this.engine.localInsert(id, edit.pos, edit.text) : this.engine.localDelete(id, edit.pos, edit.len);
    const operation: WireOperation = edit.kind === 'insert' ? { kind: 'insert', pos: edit.pos, text: edit.text } : { kind: 'delete', pos: edit.pos, len: edit.len };
    this.modified = true;
    this.segmentCache = undefined;
    this.ctx.journal?.changes(r.changes);
    this.lastSent.set(id, r.request.vector.add(id, 1));
    this.broadcast(encodeRequest({ user: id, time: r.time, operation }));
    this.ctx.hooks?.requestExecuted(this, undefined, user, { request: r.request, changes: r.changes }, at, nowMicros());
  }

  /** A server-side user leaves: unavailable for everyone (user-status-change). */
  leaveLocal(id: number): void {
    const user = this.users.get(id);
    if (!user?.local || this.status(id) === 'unavailable') return;
    this.setStatus(id, 'unavailable');
    this.broadcast(encodeUserStatusChange(id, 'unavailable'));
  }

  private ownUser(m: Member, id: number): SessionUser | undefined {
    const u = this.users.get(id);
    // Only the joining connection may act for a user (INF_USER_ERROR 4, not reported, §5.3).
    return u && u.member === m && this.status(id) !== 'unavailable' ? u : undefined;
  }

  private request(m: Member, el: Element): void {
    const { request: req, diff } = decodeRequestAndTime(el);
    const user = this.ownUser(m, req.user);
    if (!user) {
      this.ctx.log(`Session ${this.group}: request for user ${req.user} not joined via ${m.remote}, dropped`);
      return;
    }
    const vector = this.engine.decodeTime(user.id, diff);
    const current = this.engine.current;
    const failed = (reason: string, bare = false): void => {
      // The engine's errors of applying name the request already (as libinfinity's, which
      // infinoted sends); an undo or redo with nothing to undo or redo is reported bare.
      const prefix = `Failed to apply request "${vector.toString()}" from user "${user.name}" at state "${current.toString()}": `;
      m.sendGroup(this.group, encodeInvalidRequest({
        request: vector, state: current, user: user.id, reason: bare || reason.startsWith(prefix) ? reason : prefix + reason,
      }));
    };
    // The own component must be exactly the next index; anything else is dropped (§5.5).
    if (vector.get(user.id) !== this.engine.userVector(user.id).get(user.id)) {
      this.ctx.log(`Session ${this.group}: request "${vector.toString()}" of user ${user.id} out of order, dropped`);
      return;
    }
    // A central-method client only knows what the server relayed: a vector ahead of the
    // server's state is bogus, and would otherwise wait in the queue forever.
    if (!vector.causallyBefore(current)) {
      failed('The request refers to requests the server has not seen');
      return;
    }
    const refusal = this.overLimit(user.id, req.operation, req.num ?? 1);
    if (refusal !== undefined) {
      this.ctx.log(`Session ${this.group}: request of user ${user.id} via ${m.remote} refused: ${refusal}`);
      failed(refusal);
      return;
    }
    // Plugins may refuse before any transformation (transformation-protection): the sender is
    // unsubscribed, as infinoted_plugin_transformation_protection_check_request_cb does.
    const veto = this.ctx.hooks?.checkRequest(this, m, user, vector, current);
    if (veto !== undefined) {
      this.unsubscribe(m, veto);
      return;
    }
    // Read at each request, as the other limits: a reload (SIGHUP) applies to open sessions too.
    const steps = this.ctx.limits?.maxTranslationSteps ?? Infinity;
    if (this.engine.maxTranslationSteps !== steps) this.engine.maxTranslationSteps = steps;
    const received = nowMicros();
    const reference = this.engine.userVector(user.id);
    const statusBefore = this.status(user.id);
    const result = this.engine.receive({ ...requestBodyFromWire(req.operation), user: user.id, time: diff, ...(req.num ? { num: req.num } : {}) });
    const at = nowMicros();
    // Journaled before anyone is told (an edit a client has seen survives a crash).
    if (this.ctx.journal) for (const x of result.executed) if (!x.error) this.ctx.journal.changes(x.changes);
    const error = result.error ?? result.executed.find((x) => x.error)?.error;
    // The copies of an undo/redo with num="K" that ran before one failed did change the buffer:
    // the others get the request with that many, so they stay where the server is.
    const done = result.executed.filter((x) => !x.error);
    const tooFar = error instanceof TranslationLimitError;
    if (error && req.operation.kind === 'move' && isInvalidMove(error)) {
      // A move that selects past the end once transformed (libinfinity turns some selections
      // around, @tandem/adopted caret.ts): infinoted's answer exactly. The sender is told, the
      // others get the move all the same (libinfinity clients fail on it as the server did), and
      // the user's reference vector stays at the move's, as everyone's does: the sender's next
      // request counts from there. A move is no request of the log, so no vector is ahead of it.
      failed(error.message);
      this.broadcast(el, m);
    } else if (error) {
      // Answered to the sender alone; the others never see the failed part (and stay consistent).
      // The engine moved the user's reference vector past the failed request, as libinfinity
      // does, but nobody else knows of that request: the reference goes back to what the others
      // hold, so that a synchronisation sends a vector the user's request log agrees with (infinoted's
      // does not, and a @tandem/client subscribing afterwards refuses its synchronisation); and the
      // user stays inactive if it was (the others cannot know it did anything).
      this.engine.updateUser(user.id, { vector: done.length > 0 ? vector.add(user.id, done.length) : reference, status: done.length > 0 ? undefined : statusBefore });
      const nothingToDo = error instanceof AdoptedError && error.domain === AdoptedErrorDomain.ALGORITHM
        && (error.code === AlgorithmErrorCode.NO_UNDO || error.code === AlgorithmErrorCode.NO_REDO);
      if (!tooFar) failed(error.message, nothingToDo);
      if (done.length > 0 && req.num) {
        this.broadcast(encodeRequest({ user: req.user, time: req.time, operation: req.operation, num: done.length }), m);
      }
    } else {
      this.broadcast(el, m);
    }
    if (done.length > 0 && affects(req.operation)) {
      this.modified = true;
      // The shared text of the synchronisation is stale: free it now rather than at the next sync.
      this.segmentCache = undefined;
    }
    for (const x of done) this.ctx.hooks?.requestExecuted(this, m, user, x, received, at);
    if (tooFar) {
      // The sender is too far behind a busy session (or keeps others so): like
      // transformation-protection, it is unsubscribed; its client can subscribe again and
      // starts from the current state. Translating such requests would take the server ever
      // longer and hold ever more memory (at some c^3 steps for c concurrent requests).
      this.unsubscribe(m, `Session ${this.group}: request "${vector.toString()}" of user "${user.name}" (id=${user.id}) via ${m.remote} refused: ` +
        `${error.message}; the connection has been unsubscribed (max-translation-steps).`);
    }
  }

  /** Logs `why`, tells the member its session is closed and drops it (its users become unavailable). */
  private unsubscribe(m: Member, why: string): void {
    this.ctx.log(why);
    m.sendGroup(this.group, encodeSignal('session-close'));
    this.removeMember(m);
  }

  /**
   * Why a request must be refused before the engine runs it, or undefined: `num` repeats only
   * undo and redo (libinfinity merges nothing else), at most as often as the user's log holds
   * requests (more cannot succeed, and a huge count would keep the server busy); an insert may
   * not take the document past maxDocumentLength, and undo or redo (which bring back text the
   * document held) are refused while it is past it.
   */
  private overLimit(user: number, op: WireOperation, num: number): string | undefined {
    if (num > 1) {
      if (op.kind !== 'undo' && op.kind !== 'redo') return `A repetition count (num="${num}") is only accepted for undo and redo`;
      const { begin, end } = this.engine.logRange(user);
      if (num > end - begin) return `Cannot ${op.kind} ${num} times: the user has ${end - begin} requests in the log`;
    }
    const max = this.ctx.limits?.maxDocumentLength ?? Infinity;
    const length = this.engine.length;
    if (op.kind === 'insert' && length + codePointLength(op.text) > max) {
      return `The document would be longer than the server allows (${max} characters)`;
    }
    if ((op.kind === 'undo' || op.kind === 'redo') && length > max) {
      return `The document is longer than the server allows (${max} characters)`;
    }
    return undefined;
  }

  private statusChange(m: Member, el: Element): void {
    const { id, status } = decodeUserStatusChange(el);
    const user = this.ownUser(m, id);
    if (!user) return;
    const was = this.status(id);
    this.setStatus(id, status);
    if (status === 'unavailable') user.member = undefined;
    this.broadcast(el, m);
    if ((was === 'unavailable') !== (status === 'unavailable')) this.ctx.hooks?.usersChanged?.(this);
  }

  private colorChange(m: Member, el: Element): void {
    const { id, hue } = decodeUserColorChange(el);
    const user = this.ownUser(m, id);
    if (!user) return;
    user.hue = hue;
    this.modified = true;
    this.ctx.journal?.user({ id: user.id, name: user.name, hue });
    this.broadcast(el, m);
  }
}

function affects(op: WireOperation): boolean {
  return op.kind !== 'move' && op.kind !== 'no-op';
}

