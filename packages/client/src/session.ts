// The client side of one text session (group InfSession_<id>, protocol.md §4-§5), after
// libinfinity's infc-session-proxy.c and inf-adopted-session.c: receive the synchronisation,
// join users (own seq counter per proxy), send local requests with diff-encoded time vectors,
// execute remote requests through the engine, and advertise our state with a no-op 30 s after
// remote changes (INF_ADOPTED_SESSION_NOOP_INTERVAL).
import { Emitter } from './emitter.js';
import {
  AdoptedSession, StateVector,
  type BufferChange as EngineChange, type Executed, type Request, type Segment, type UserInit,
} from '@tandem/adopted';
import {
  InfError, decodeRequestAndTime, decodeSyncBegin, decodeSyncRequest, decodeSyncSegment,
  decodeUser, decodeUserColorChange, decodeUserStatusChange, encodeRequest, encodeSignal,
  encodeUserJoinRequest, encodeUserStatusChange, fromRequestFailed, fromSyncError, parseReplySeq, requestBodyFromWire,
  requestFromWireSync, toSyncError,
  type Element, type UserStatus, type WireOperation,
} from '@tandem/protocol';
import { ClientError, RequestFailedError, deferred, withTimeout, type Deferred } from './errors.js';
import type { Connection } from './net/connection.js';

/** A user of a session as the client knows it. */
export interface SessionUser {
  readonly id: number;
  name: string;
  status: UserStatus;
  hue: number;
  caret: number;
  selection: number;
}

/** One change to the buffer as executed, in code points. */
export type BufferChange =
  | { kind: 'insert'; pos: number; text: string }
  | { kind: 'delete'; pos: number; len: number };

export interface SessionEvents {
  /** The buffer changed; `user` made the request (for undo/redo: whose request was undone/redone). */
  change: [change: BufferChange, user: SessionUser, local: boolean];
  'user-joined': [user: SessionUser];
  'user-left': [user: SessionUser];
  'user-changed': [user: SessionUser];
  /** The session ended for us (session-close from the server, or the connection went away). */
  closed: [reason: Error | undefined];
  /** A live message could not be processed (libinfinity logs these and carries on). */
  warning: [error: Error];
}

/** libinfinity's no-op interval (inf-adopted-session.c), in milliseconds. */
export const NOOP_INTERVAL_MS = 30000;

export class SessionProxy extends Emitter<SessionEvents> {
  readonly users = new Map<number, SessionUser>();
  /** The adOPTed site (users' vectors and logs, buffer); built when the synchronisation ends. */
  private site: AdoptedSession | undefined;
  private syncState: { users: UserInit[]; requests: Request[]; segments: Segment[] } = { users: [], requests: [], segments: [] };
  private readonly synced = deferred<void>();
  private syncExpected: number | undefined;
  private syncReceived = 0;
  private nextSeq = 0;
  private readonly joins = new Map<number, Deferred<SessionUser>>();
  private noopTimer: ReturnType<typeof setTimeout> | undefined;
  private localUser: SessionUser | undefined;
  private closedReason: Error | undefined | null = null;

  constructor(
    private readonly conn: Connection,
    readonly group: string,
    /** The directory seq id of our connection, to recognise replies to our joins. */
    private readonly sequenceId: () => number | undefined,
    private readonly timeoutMs: number,
    /** Sends a directory round trip (see Directory.barrier). */
    private readonly barrier: () => Promise<void>,
    /** Whether a synchronisation will come (false for a node we created with <subscribe/>). */
    expectSync: boolean,
  ) {
    super();
    if (!expectSync) {
      this.site = new AdoptedSession();
      this.synced.resolve();
    }
  }

  /** Resolves when the session is synchronised (protocol.md §4). */
  ready(): Promise<void> {
    return withTimeout(this.synced.promise, this.timeoutMs, `the synchronisation of ${this.group}`);
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** The user joined through this proxy, if any. */
  get me(): SessionUser | undefined {
    return this.localUser;
  }

  text(): string {
    return this.site?.text ?? '';
  }

  /** The buffer as runs of text by author (author 0 = nobody), in document order. */
  segments(): readonly Segment[] {
    return this.site?.segments() ?? [];
  }

  private get engine(): AdoptedSession {
    if (!this.site) throw new ClientError('PROTOCOL', `${this.group} is not synchronised yet`);
    return this.site;
  }

  /** Entry point for every message of the session's group. */
  handle(el: Element): void {
    if (this.closed) return;
    try {
      if (this.syncExpected !== undefined || el.name === 'sync-begin') this.handleSync(el);
      else this.handleLive(el);
    } catch (err) {
      this.protocolError(err as Error, el);
    }
  }

  private protocolError(err: Error, el: Element): void {
    if (this.syncExpected !== undefined) {
      // The receiver reports a bad synchronisation with sync-error and drops the session.
      const inf = err instanceof InfError ? err : new InfError('INF_SESSION_SYNC_ERROR', 14, err.message);
      this.conn.send(this.group, toSyncError(inf));
      this.close(new ClientError('PROTOCOL', `the synchronisation of ${this.group} failed: ${err.message}`));
      return;
    }
    // A live message we cannot execute: libinfinity logs and goes on; so do we, loudly.
    this.emit('warning', new ClientError('PROTOCOL', `cannot process <${el.name}> in ${this.group}: ${err.message}`));
  }

  private handleSync(el: Element): void {
    switch (el.name) {
      case 'sync-begin':
        if (this.syncExpected !== undefined) throw new InfError('INF_SESSION_SYNC_ERROR', 9, 'Received sync-begin twice');
        this.syncExpected = decodeSyncBegin(el).numMessages;
        return;
      case 'sync-end': {
        if (this.syncReceived !== this.syncExpected) {
          throw new InfError('INF_SESSION_SYNC_ERROR', 11, 'Received sync-end before all messages');
        }
        // Rebuild the adOPTed state from users, logs and buffer (inf_adopted_session sync end).
        this.site = AdoptedSession.fromSync(this.syncState);
        this.syncState = { users: [], requests: [], segments: [] };
        this.syncExpected = undefined;
        this.conn.send(this.group, encodeSignal('sync-ack'));
        this.synced.resolve();
        return;
      }
      case 'sync-cancel':
        this.close(new ClientError('CLOSED', `the server cancelled the synchronisation of ${this.group}`));
        return;
    }
    this.syncReceived++;
    if (this.syncReceived > this.syncExpected!) throw new InfError('INF_SESSION_SYNC_ERROR', 13, 'More messages than announced');
    switch (el.name) {
      case 'sync-user': {
        const u = decodeUser(el);
        const vector = u.time ?? StateVector.zero;
        this.users.set(u.id, { id: u.id, name: u.name, status: u.status, hue: u.hue ?? 0, caret: u.caret ?? 0, selection: u.selection ?? 0 });
        this.syncState.users.push({ id: u.id, name: u.name, status: u.status, vector, caret: u.caret ?? 0, selection: u.selection ?? 0 });
        return;
      }
      case 'sync-request': {
        const r = decodeSyncRequest(el);
        if (!this.users.has(r.user)) throw new InfError('INF_USER_ERROR', 2, `No such user with ID ${r.user}`);
        this.syncState.requests.push(requestFromWireSync(r));
        return;
      }
      case 'sync-segment': {
        const s = decodeSyncSegment(el);
        if (s.author !== 0 && !this.users.has(s.author)) throw new InfError('INF_USER_ERROR', 2, `No such user with ID '${s.author}'`);
        this.syncState.segments.push({ author: s.author, text: s.text });
        return;
      }
      default:
        throw new InfError('INF_SESSION_SYNC_ERROR', 1, `Received unexpected message "${el.name}" during synchronisation`);
    }
  }

  private handleLive(el: Element): void {
    switch (el.name) {
      case 'user-join':
      case 'user-rejoin':
        this.userJoined(el);
        return;
      case 'user-status-change': {
        const { id, status } = decodeUserStatusChange(el);
        const user = this.users.get(id);
        if (!user) return;
        const was = user.status;
        user.status = status;
        if (this.engine.user(id)) this.engine.updateUser(id, { status });
        if (status === 'unavailable' && was !== 'unavailable') this.emit('user-left', user);
        else if (status !== 'unavailable' && was === 'unavailable') this.emit('user-joined', user);
        else this.emit('user-changed', user);
        return;
      }
      case 'user-color-change': {
        const { id, hue } = decodeUserColorChange(el);
        const user = this.users.get(id);
        if (user) {
          user.hue = hue;
          this.emit('user-changed', user);
        }
        return;
      }
      case 'request':
        this.remoteRequest(el);
        return;
      case 'request-failed': {
        const { error, seq } = fromRequestFailed(el);
        const n = this.ownSeq(seq);
        const join = n === undefined ? undefined : this.joins.get(n);
        if (join) {
          this.joins.delete(n!);
          join.reject(new RequestFailedError(error.domain, error.code, error.message));
        }
        return;
      }
      case 'session-close':
        this.close(new ClientError('CLOSED', `the server closed the session ${this.group} (the document was removed or the server is shutting down)`));
        return;
      case 'sync-error':
        this.close(new ClientError('PROTOCOL', `synchronisation error: ${fromSyncError(el).message}`));
        return;
      default:
        // invalid-request and unknown messages: libinfinity 0.7 clients ignore them (protocol.md §5.5, §5.7).
        return;
    }
  }

  /** The N of a reply seq "SEQID/N" addressed to this connection (protocol.md §2.4). */
  private ownSeq(seq: string | undefined): number | undefined {
    const own = this.sequenceId();
    const parsed = seq === undefined ? undefined : parseReplySeq(seq);
    return parsed && own !== undefined && parsed.seqId === own ? parsed.n : undefined;
  }

  private userJoined(el: Element): void {
    const u = decodeUser(el);
    const vector = u.time ?? StateVector.zero;
    let user = this.users.get(u.id);
    const wasAvailable = user !== undefined && user.status !== 'unavailable';
    if (user) {
      Object.assign(user, { name: u.name, status: u.status, hue: u.hue ?? user.hue, caret: u.caret ?? 0, selection: u.selection ?? 0 });
    } else {
      user = { id: u.id, name: u.name, status: u.status, hue: u.hue ?? 0, caret: u.caret ?? 0, selection: u.selection ?? 0 };
      this.users.set(u.id, user);
    }
    const n = this.ownSeq(u.seq);
    const join = n === undefined ? undefined : this.joins.get(n);
    const init = { name: u.name, status: u.status, vector, caret: u.caret ?? 0, selection: u.selection ?? 0, local: join !== undefined };
    if (this.engine.user(u.id)) this.engine.updateUser(u.id, init);
    else this.engine.addUser({ id: u.id, ...init });
    if (join) {
      this.joins.delete(n!);
      this.localUser = user;
      join.resolve(user);
    }
    if (!wasAvailable && user.status !== 'unavailable') this.emit('user-joined', user);
  }

  private remoteRequest(el: Element): void {
    const { request: req, diff } = decodeRequestAndTime(el);
    const result = this.engine.receive({ ...requestBodyFromWire(req.operation), user: req.user, time: diff, num: req.num });
    // A request that failed once translated (a move selecting past the end, as in libinfinity)
    // is among the executed ones, with its error: reported as a warning like the others.
    if (result.error && !result.executed.some((x) => x.error === result.error)) throw result.error;
    let changedBuffer = false;
    for (const executed of result.executed) {
      if (this.report(executed, false)) changedBuffer = true;
    }
    if (changedBuffer) this.scheduleNoop();
  }

  /** Emits the buffer changes of an executed request; true if the buffer changed. */
  private report(executed: Executed, local: boolean): boolean {
    let changed = false;
    for (const c of executed.changes) {
      const user = this.users.get(c.user);
      if (!user) continue;
      if (c.type === 'move') {
        user.caret = c.caret;
        user.selection = c.selection;
        continue;
      }
      changed = true;
      this.emit('change', toChange(c), user, local);
    }
    const user = this.users.get(executed.request.user);
    // Doing anything but a no-op makes a user active; a failed request does so where the engine
    // got as far as translating it (libinfinity's end-execute-request).
    const acted = executed.error ? this.engine.user(executed.request.user)?.status === 'active' : !(executed.request.type === 'do' && executed.request.op.kind === 'no-op');
    if (user && user.status === 'inactive' && acted) user.status = 'active';
    if (executed.error) this.emit('warning', new ClientError('PROTOCOL', executed.error.message));
    return changed;
  }

  /** inf_adopted_session: after remote changes, tell the others our state within 30 s. */
  private scheduleNoop(): void {
    if (!this.localUser || this.noopTimer) return;
    this.noopTimer = setTimeout(() => {
      this.noopTimer = undefined;
      const me = this.localUser;
      if (this.closed || !me || me.status === 'unavailable') return;
      const noop = this.engine.localNoop(me.id);
      this.conn.send(this.group, encodeRequest({ user: me.id, time: noop.time, operation: { kind: 'no-op' } }));
    }, NOOP_INTERVAL_MS);
    // Node: the timer alone must not keep a process alive (a browser's timer is a number).
    (this.noopTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Joins as `name` (user-join, protocol.md §5.2; Gobby's attributes). If the name is taken by an
   * available user and `retry` is set, tries "name 2", "name 3", ... as Gobby does.
   */
  async join(name: string, options: { hue?: number; caret?: number; retry?: boolean } = {}): Promise<SessionUser> {
    await this.ready();
    if (this.localUser && this.localUser.status !== 'unavailable') {
      throw new ClientError('REQUEST_FAILED', `already joined ${this.group} as "${this.localUser.name}"`);
    }
    const hue = options.hue ?? hueOf(name);
    for (let attempt = 1; ; attempt++) {
      const candidate = attempt === 1 ? name : `${name} ${attempt}`;
      const seq = this.nextSeq++;
      const pending = deferred<SessionUser>();
      this.joins.set(seq, pending);
      this.conn.send(
        this.group,
        encodeUserJoinRequest({ seq, name: candidate, status: 'active', time: this.engine.current, caret: options.caret ?? 0, hue }),
      );
      try {
        return await withTimeout(pending.promise, this.timeoutMs, `joining ${this.group} as "${candidate}"`);
      } catch (err) {
        this.joins.delete(seq);
        const nameInUse = err instanceof RequestFailedError && err.domain === 'INF_USER_ERROR' && err.infCode === 0;
        if (!nameInUse || !options.retry || attempt >= 20) {
          if (nameInUse) throw new RequestFailedError('INF_USER_ERROR', 0, `the user name "${candidate}" is in use in this document`);
          throw err;
        }
      }
    }
  }

  /** Executes a local request and sends it (inf_adopted_session_broadcast_request). */
  send(operation: WireOperation): void {
    const me = this.localUser;
    if (!me || me.status === 'unavailable') throw new ClientError('REQUEST_FAILED', 'join the session before editing');
    if (this.closed) throw new ClientError('CLOSED', `the session ${this.group} is closed`);
    const site = this.engine;
    let result;
    switch (operation.kind) {
      case 'insert':
        result = site.localInsert(me.id, operation.pos, operation.text);
        break;
      case 'delete':
        if (!('len' in operation)) throw new ClientError('PROTOCOL', 'a local delete has a length');
        result = site.localDelete(me.id, operation.pos, operation.len);
        break;
      case 'undo':
        result = site.localUndo(me.id);
        break;
      case 'redo':
        result = site.localRedo(me.id);
        break;
      case 'move':
        result = site.localMove(me.id, operation.caret, operation.selection);
        break;
      case 'no-op':
        result = site.localNoop(me.id);
        break;
    }
    this.conn.send(this.group, encodeRequest({ user: me.id, time: result.time, num: result.num > 1 ? result.num : undefined, operation }));
    if (this.noopTimer) {
      clearTimeout(this.noopTimer);
      this.noopTimer = undefined;
    }
    this.report({ request: result.request, changes: result.changes }, true);
  }

  canUndo(): boolean {
    return this.localUser !== undefined && this.engine.canUndo(this.localUser.id);
  }

  canRedo(): boolean {
    return this.localUser !== undefined && this.engine.canRedo(this.localUser.id);
  }

  /** Resolves once the server has executed and relayed everything sent so far. */
  flush(): Promise<void> {
    return this.barrier();
  }

  /** Leaves the session: session-unsubscribe (the server marks our users unavailable, §5.8). */
  leave(): void {
    if (this.closed) return;
    try {
      this.conn.send(this.group, encodeSignal('session-unsubscribe'));
    } catch {
      // The connection is already gone; the server has dropped us anyway.
    }
    this.close(undefined);
  }

  /** Drops the session locally. */
  close(reason: Error | undefined): void {
    if (this.closed) return;
    this.closedReason = reason;
    if (this.noopTimer) clearTimeout(this.noopTimer);
    const err = reason ?? new ClientError('CLOSED', `the session ${this.group} was left`);
    this.synced.reject(err);
    for (const j of this.joins.values()) j.reject(err);
    this.joins.clear();
    this.emit('closed', reason);
  }

  /** Sends a user-status-change for the local user (e.g. "inactive"). */
  setStatus(status: UserStatus): void {
    if (!this.localUser) throw new ClientError('REQUEST_FAILED', 'join the session first');
    this.conn.send(this.group, encodeUserStatusChange(this.localUser.id, status));
    this.localUser.status = status;
  }
}

function toChange(c: Exclude<EngineChange, { type: 'move' }>): BufferChange {
  return c.type === 'insert' ? { kind: 'insert', pos: c.pos, text: c.text } : { kind: 'delete', pos: c.pos, len: c.length };
}

/** A stable hue in [0, 1) derived from the user name, so a bot keeps its colour across runs. */
export function hueOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return Math.round(((h >>> 0) / 0x100000000) * 1000) / 1000;
}
