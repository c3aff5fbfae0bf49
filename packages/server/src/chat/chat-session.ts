/**
 * A hosted chat session (infd-session-proxy.c + inf-chat-session.c, server side, central
 * method): the server-wide chat in group InfChat and InfChat documents (note-chat plugin).
 * Users join by name only; messages are relayed verbatim to the other members (no echo) and
 * kept in a backlog of the last 256 that a new subscriber receives with their times, together
 * with the userjoin/userpart entries the session writes when users come and go (protocol.md 5.9).
 */
import { userTableOrder } from '@tandem/adopted';
import {
  Element, ErrorCodes, InfError, decodeChatMessage, decodeUserJoinRequest, decodeUserStatusChange, encodeChatMessage,
  encodeSignal, encodeSyncBegin, encodeUser, textOfBytes, toRequestFailed,
  type ChatMessage, type UserStatus,
} from '@tandem/protocol';
import { type Member, MemberTable, type SessionAccess, UserIdCounter, replySeq } from '../session/members.js';

/** infd_directory_enable_chat: inf_chat_buffer_new(256). */
export const CHAT_BACKLOG_SIZE = 256;

export interface ChatUser {
  id: number;
  name: string;
  status: UserStatus;
  /** The member the user joined through; undefined while unavailable. */
  member: Member | undefined;
}

export interface ChatContext {
  /** The member's sequence id, for `seq="ID/N"` replies. */
  seqId(member: Member): number;
  log(line: string): void;
  /** Called when the session has no subscribers left. */
  idle?(session: ChatSession): void;
  /** Seconds since the epoch, as time(NULL); injectable for tests. */
  now?(): number;
  /** Users the session may know (limits.ts maxUsersPerSession); default no limit. */
  maxUsers?(): number;
}

export class ChatSession {
  private readonly members: MemberTable<ChatUser>;
  private readonly users = new Map<number, ChatUser>();
  private readonly ids = new UserIdCounter();
  private readonly backlog: ChatMessage[] = [];
  /** Chat content is never stored (protocol.md 7.3); there is nothing to save after creation. */
  readonly modified = false;

  constructor(
    readonly group: string,
    private readonly ctx: ChatContext,
    private readonly backlogSize = CHAT_BACKLOG_SIZE,
  ) {
    this.members = new MemberTable(group, {
      users: () => this.users.values(),
      available: (u) => u.status !== 'unavailable',
      setUnavailable: (u) => this.setStatus(u, 'unavailable'),
      handlers: new Map([
        ['user-join', (m, el, access) => this.userJoin(m, el, access.joinUser)],
        ['message', (m, el) => this.message(m, el)],
        ['user-status-change', (m, el) => this.statusChange(m, el)],
      ]),
      // Errors in chat messages are not reported to the sender (capture 10), only logged.
      log: (line) => ctx.log(line),
      idle: () => ctx.idle?.(this),
    });
  }

  private now(): number {
    return this.ctx.now ? this.ctx.now() : Math.floor(Date.now() / 1000);
  }

  get subscriberCount(): number {
    return this.members.size;
  }

  isSubscribed(m: Member): boolean {
    return this.members.has(m);
  }

  /** The backlog as a subscriber would receive it (for tests and tools). */
  messages(): readonly ChatMessage[] {
    return this.backlog;
  }

  /** With `synchronize` the member gets users and backlog first and is ignored until sync-ack. */
  subscribe(m: Member, synchronize: boolean): void {
    this.members.add(m, synchronize);
    if (synchronize) this.synchronize(m);
  }

  private synchronize(m: Member): void {
    // inf_session_to_xml_sync writes the users, inf_chat_session_to_xml_sync then the buffer.
    const users = userTableOrder(this.users.values());
    m.sendGroup(this.group,
      encodeSyncBegin(users.length + this.backlog.length),
      ...users.map((u) => encodeUser('sync-user', { id: u.id, name: u.name, status: u.status })),
      ...this.backlog.map(encodeChatMessage),
      encodeSignal('sync-end'));
  }

  private record(msg: ChatMessage): void {
    this.backlog.push(keptAsBuffered(msg));
    if (this.backlog.length > this.backlogSize) this.backlog.splice(0, this.backlog.length - this.backlogSize);
  }

  /** inf_chat_session_set_status_cb: a user coming or going leaves a userjoin/userpart entry. */
  private setStatus(u: ChatUser, status: UserStatus): void {
    const was = u.status;
    u.status = status;
    if (was === 'unavailable' && status !== 'unavailable') this.record({ user: u.id, type: 'userjoin', text: '', time: this.now() });
    else if (was !== 'unavailable' && status === 'unavailable') this.record({ user: u.id, type: 'userpart', text: '', time: this.now() });
  }

  private broadcast(el: Element, except?: Member, requester?: Member): void {
    this.members.broadcast(el, except, requester);
  }

  /** Tells every subscriber the session is gone and forgets them; their users part. */
  close(): void {
    this.members.close();
  }

  /** Unsubscribe or disconnect: the member's users become unavailable for everyone else. */
  removeMember(m: Member): void {
    this.members.remove(m);
  }

  /** One message from a member in this session's group. */
  handle(m: Member, el: Element, access: SessionAccess = { joinUser: true }): void {
    this.members.handle(m, el, access);
  }

  /** infd_session_proxy_handle_user_join: a chat user has a name and a status only. */
  private userJoin(m: Member, el: Element, allowed: boolean): void {
    // infd_session_proxy_make_seq comes first: an invalid seq fails the join.
    let seq: string | undefined;
    try {
      seq = replySeq(el, this.ctx.seqId(m));
      const req = decodeUserJoinRequest(el, (name) => {
        const user = [...this.users.values()].find((u) => u.name === name);
        if (user && user.status !== 'unavailable') {
          throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.NAME_IN_USE, `Name "${name}" already in use`);
        }
      });
      const existing = [...this.users.values()].find((u) => u.name === req.name);
      // can-join-user on the chat document (the server-wide chat has no node and no such check).
      if (!allowed) throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NOT_AUTHORIZED, 'Permission denied');
      // Users are never forgotten, so a flood of new names is refused; a known name may rejoin.
      const max = this.ctx.maxUsers?.() ?? Infinity;
      if (!existing && this.users.size >= max) {
        this.ctx.log(`Session ${this.group}: refused user "${req.name}" of ${m.remote}: ${this.users.size} users, the limit (max-users-per-session)`);
        throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.FAILED, `The session has ${this.users.size} users, the most the server allows`);
      }
      // A rejoin keeps the id (user-rejoin); otherwise the next free id.
      const user = existing ?? { id: this.ids.take(this.users), name: req.name, status: 'unavailable' as UserStatus, member: undefined };
      this.users.set(user.id, user);
      user.member = m;
      this.members.joined(user);
      this.setStatus(user, req.status ?? 'active');
      this.broadcast(encodeUser(existing ? 'user-rejoin' : 'user-join', { id: user.id, name: user.name, status: user.status }, seq), undefined, m);
    } catch (err) {
      const e = err instanceof InfError ? err : new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.FAILED, (err as Error).message);
      m.sendGroup(this.group, toRequestFailed(e, seq));
    }
  }

  /** inf_chat_session_receive_message: live messages are normal or emote, from an own user. */
  private message(m: Member, el: Element): void {
    const msg = decodeChatMessage(el);
    if (msg.type === 'userjoin' || msg.type === 'userpart') {
      throw new InfError('INF_CHAT_SESSION_ERROR', ErrorCodes.INF_CHAT_SESSION_ERROR.TYPE_INVALID, `Non-backlog message type cannot be "${msg.type}"`);
    }
    const user = this.users.get(msg.user);
    if (!user) throw new InfError('INF_CHAT_SESSION_ERROR', ErrorCodes.INF_CHAT_SESSION_ERROR.NO_SUCH_USER, `No such user with ID "${msg.user}"`);
    if (user.member !== m || user.status === 'unavailable') {
      throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.NOT_JOINED, 'User did not join from this connection');
    }
    // The receiver stamps live messages with its own clock.
    this.record({ ...msg, time: this.now() });
    this.broadcast(el, m);
  }

  private statusChange(m: Member, el: Element): void {
    const { id, status } = decodeUserStatusChange(el);
    const user = this.users.get(id);
    // Only the joining connection may act for a user (INF_USER_ERROR 4, not reported).
    if (!user || user.member !== m || user.status === 'unavailable') return;
    this.setStatus(user, status);
    if (status === 'unavailable') user.member = undefined;
    this.broadcast(el, m);
  }
}

/**
 * The message as inf_chat_buffer_add_message keeps it: its text copied with g_strndup, so every
 * byte after a NUL is NUL too ("x<uchar codepoint="0"/>y" comes back with two NULs and no y).
 */
function keptAsBuffered(msg: ChatMessage): ChatMessage {
  if (!msg.text.includes('\0')) return msg;
  const raw = Uint8Array.from(msg.raw ?? new TextEncoder().encode(msg.text));
  raw.fill(0, raw.indexOf(0));
  return { ...msg, text: textOfBytes(raw), raw };
}
