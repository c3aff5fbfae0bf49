// The server-wide chat (group InfChat, protocol.md §3.9, §5.9), after libinfinity's
// inf-chat-session.c: synchronised backlog, users with id/name/status only, <message> relay.
import { Emitter } from './emitter.js';
import {
  InfError, decodeChatMessage, decodeSyncBegin, decodeUser, decodeUserStatusChange, encodeChatMessage, encodeSignal,
  encodeUserJoinRequest, fromRequestFailed, parseReplySeq, toSyncError,
  type Element, type UserStatus,
} from '@tandem/protocol';
import { ClientError, RequestFailedError, deferred, withTimeout, type Deferred } from './errors.js';
import type { Connection } from './net/connection.js';

export type ChatMessageType = 'normal' | 'emote' | 'userjoin' | 'userpart';

export interface ChatMessage {
  type: ChatMessageType;
  /** The sender's name (unknown ids give "#ID"). */
  user: string;
  text: string;
  /** When the server stamped it (backlog) or when we received it, Unix seconds. */
  time: number;
  /** From the synchronised backlog rather than live. */
  backlog: boolean;
}

export interface ChatEvents {
  message: [message: ChatMessage];
  closed: [reason: Error | undefined];
}

export class ChatSession extends Emitter<ChatEvents> {
  readonly users = new Map<number, { id: number; name: string; status: UserStatus }>();
  /** The backlog received with the synchronisation (the server keeps the last 256). */
  readonly backlog: ChatMessage[] = [];
  private readonly synced = deferred<void>();
  private syncing = false;
  private nextSeq = 0;
  private join: { seq: number; result: Deferred<number> } | undefined;
  private me: number | undefined;
  private closed = false;

  constructor(
    private readonly conn: Connection,
    readonly group: string,
    private readonly sequenceId: () => number | undefined,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  ready(): Promise<void> {
    return withTimeout(this.synced.promise, this.timeoutMs, 'the chat synchronisation');
  }

  handle(el: Element): void {
    if (this.closed) return;
    try {
      this.process(el);
    } catch (err) {
      if (this.syncing) {
        const inf = err instanceof InfError ? err : new InfError('INF_SESSION_SYNC_ERROR', 14, (err as Error).message);
        this.conn.send(this.group, toSyncError(inf));
        this.close(new ClientError('PROTOCOL', `the chat synchronisation failed: ${(err as Error).message}`));
      }
    }
  }

  private process(el: Element): void {
    switch (el.name) {
      case 'sync-begin':
        decodeSyncBegin(el);
        this.syncing = true;
        return;
      case 'sync-end':
        this.syncing = false;
        this.conn.send(this.group, encodeSignal('sync-ack'));
        this.synced.resolve();
        return;
      case 'sync-user':
      case 'user-join':
      case 'user-rejoin': {
        const u = decodeUser(el);
        const was = this.users.get(u.id)?.status;
        this.users.set(u.id, { id: u.id, name: u.name, status: u.status });
        // A live join shows in the chat as libinfinity's InfChatSession shows it (a userjoin line).
        if (!this.syncing && el.name !== 'sync-user' && (was === undefined || was === 'unavailable')) this.live('userjoin', u.name);
        const own = this.sequenceId();
        const seq = u.seq === undefined ? undefined : parseReplySeq(u.seq);
        if (this.join && seq && seq.seqId === own && seq.n === this.join.seq) {
          this.me = u.id;
          this.join.result.resolve(u.id);
          this.join = undefined;
        }
        return;
      }
      case 'user-status-change': {
        const { id, status } = decodeUserStatusChange(el);
        const u = this.users.get(id);
        if (!u) return;
        const left = status === 'unavailable' && u.status !== 'unavailable';
        u.status = status;
        if (left && !this.syncing) this.live('userpart', u.name);
        return;
      }
      case 'message': {
        const m = decodeChatMessage(el);
        // Only the backlog carries a time stamp; live messages are stamped on arrival (inf-chat-session.c).
        const time = this.syncing && m.time !== undefined ? m.time : Math.floor(Date.now() / 1000);
        const message: ChatMessage = {
          type: m.type, user: this.users.get(m.user)?.name ?? `#${m.user}`, text: m.text, time, backlog: this.syncing,
        };
        if (this.syncing) this.backlog.push(message);
        this.emit('message', message);
        return;
      }
      case 'request-failed': {
        const { error } = fromRequestFailed(el);
        if (this.join) {
          this.join.result.reject(new RequestFailedError(error.domain, error.code, error.message));
          this.join = undefined;
        }
        return;
      }
      case 'session-close':
        this.close(new ClientError('CLOSED', 'the server closed the chat'));
        return;
      default:
        return;
    }
  }

  /** A join or part seen live, as a chat line stamped now. */
  private live(type: 'userjoin' | 'userpart', user: string): void {
    this.emit('message', { type, user, text: '', time: Math.floor(Date.now() / 1000), backlog: false } satisfies ChatMessage);
  }

  /** Joins the chat as `name` (user-join with id/name/status only); "name 2"... if taken. */
  async joinAs(name: string): Promise<void> {
    await this.ready();
    for (let attempt = 1; ; attempt++) {
      const candidate = attempt === 1 ? name : `${name} ${attempt}`;
      const seq = this.nextSeq++;
      this.join = { seq, result: deferred<number>() };
      this.conn.send(this.group, encodeUserJoinRequest({ seq, name: candidate, status: 'active' }));
      try {
        await withTimeout(this.join.result.promise, this.timeoutMs, `joining the chat as "${candidate}"`);
        return;
      } catch (err) {
        const nameInUse = err instanceof RequestFailedError && err.domain === 'INF_USER_ERROR' && err.infCode === 0;
        if (!nameInUse || attempt >= 20) throw err;
      }
    }
  }

  /** Sends a message (or an emote); the server relays it to everybody else. */
  send(text: string, options: { emote?: boolean } = {}): void {
    if (this.me === undefined) throw new ClientError('REQUEST_FAILED', 'join the chat before sending');
    this.conn.send(this.group, encodeChatMessage({ user: this.me, type: options.emote ? 'emote' : 'normal', text }));
  }

  leave(): void {
    if (this.closed) return;
    try {
      this.conn.send(this.group, encodeSignal('session-unsubscribe'));
    } catch {
      // Connection already gone.
    }
    this.close(undefined);
  }

  close(reason: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.synced.reject(reason ?? new ClientError('CLOSED', 'the chat was left'));
    this.join?.result.reject(reason ?? new ClientError('CLOSED', 'the chat was left'));
    this.emit('closed', reason);
  }
}
