/**
 * The subscriber side of a hosted session that text and chat sessions share (infd-session-proxy.c):
 * the member table with each member's synchronisation state, message dispatch, relaying to
 * members, and what happens to a member's users when it leaves or the session closes.
 */
import { Element, encodeGroup, encodeSignal, encodeUserStatusChange, formatReplySeq, requestSeq, serialize } from '@tandem/protocol';

/** The part of a connection a session uses. */
export interface Member {
  sendGroup(group: string, ...messages: Element[]): void;
  /** Sends a run of group messages as prepared bytes, where the member can (else sendGroup). */
  sendPrepared?(run: PreparedGroupRun): void;
  /** Sends a message relayed from another member, which may be batched with the next ones. */
  sendRelay?(group: string, message: Element): void;
  readonly remote: string;
}

/**
 * Messages of one group, each in its own `<group name=...>`, encoded once as UTF-8 for every
 * member they are sent to: the text of a big document goes to each new subscriber as the same
 * bytes instead of being wrapped, joined and encoded again per subscriber.
 */
export class PreparedGroupRun {
  private bytes: Buffer | undefined;

  constructor(
    readonly group: string,
    readonly messages: readonly Element[],
  ) {}

  /** The messages as sendGroup would write them, encoded. */
  encoded(): Buffer {
    this.bytes ??= Buffer.from(this.messages.map((m) => serialize(encodeGroup(this.group, m))).join(''), 'utf8');
    return this.bytes;
  }

  /** Sends the run to `m`: as bytes if it takes them, else message by message. */
  sendTo(m: Member): void {
    if (m.sendPrepared) m.sendPrepared(this);
    else m.sendGroup(this.group, ...this.messages);
  }
}

/** Permissions of the sending member that a session enforces itself. */
export interface SessionAccess {
  /** can-join-user on the note: user-join is refused with INF_REQUEST_ERROR 6 without it. */
  joinUser: boolean;
}

/** A session user as far as the member table is concerned. */
export interface MemberUser {
  readonly id: number;
  /** The member the user joined through; undefined while unavailable. */
  member: Member | undefined;
}

/** Handles one message of a ready member. */
export type MessageHandler = (m: Member, el: Element, access: SessionAccess) => void;

/** What the owning session supplies: its users, their status, and what follows a removal. */
export interface MemberHost<U extends MemberUser> {
  users(): Iterable<U>;
  available(u: U): boolean;
  /** Marks the user unavailable in the session's own user state (no message sent). */
  setUnavailable(u: U): void;
  /** The session's messages by element name; session-unsubscribe is handled here. */
  handlers: ReadonlyMap<string, MessageHandler>;
  log(line: string): void;
  /** A message handler threw (after it was logged). */
  failed?(m: Member, el: Element, err: Error): void;
  /** A removed member had users that became unavailable. */
  usersLeft?(): void;
  /** The last member was removed. */
  idle(): void;
}

type Subscription = { state: 'syncing' | 'ready' };

export class MemberTable<U extends MemberUser> {
  private readonly members = new Map<Member, Subscription>();
  /** When each user last became a member's (joined or rejoined through it), for remove()'s order. */
  private readonly joinOrder = new WeakMap<U, number>();
  private joins = 0;

  constructor(
    private readonly group: string,
    private readonly host: MemberHost<U>,
  ) {}

  get size(): number {
    return this.members.size;
  }

  has(m: Member): boolean {
    return this.members.has(m);
  }

  /** A member that is being synchronised is ignored until its sync-ack. */
  add(m: Member, synchronize: boolean): void {
    this.members.set(m, { state: synchronize ? 'syncing' : 'ready' });
  }

  /**
   * Sends `el` to every member but `except`. To the others it is news they did not ask for, which
   * may be batched (sendRelay); `requester`, whose request it answers, gets it at once.
   */
  broadcast(el: Element, except?: Member, requester?: Member): void {
    for (const m of this.members.keys()) {
      if (m === except) continue;
      if (m.sendRelay && m !== requester) m.sendRelay(this.group, el);
      else m.sendGroup(this.group, el);
    }
  }

  /** Tells every member the session is gone (session-close) and forgets them; their users part. */
  close(): void {
    for (const m of this.members.keys()) m.sendGroup(this.group, encodeSignal('session-close'));
    for (const u of this.host.users()) {
      if (u.member) this.host.setUnavailable(u);
      u.member = undefined;
    }
    this.members.clear();
  }

  /** `u` has just joined or rejoined through its member (u.member is set). */
  joined(u: U): void {
    this.joinOrder.set(u, ++this.joins);
  }

  /**
   * Unsubscribe or disconnect: the member's users become unavailable for everyone else (§5.3),
   * the one that joined last first (infinoted keeps a subscription's users in a list it prepends to).
   */
  remove(m: Member): void {
    if (!this.members.delete(m)) return;
    let left = false;
    const users = [...this.host.users()].filter((u) => u.member === m)
      .sort((a, b) => (this.joinOrder.get(b) ?? 0) - (this.joinOrder.get(a) ?? 0));
    for (const u of users) {
      u.member = undefined;
      if (this.host.available(u)) {
        this.host.setUnavailable(u);
        this.broadcast(encodeUserStatusChange(u.id, 'unavailable'));
        left = true;
      }
    }
    if (left) this.host.usersLeft?.();
    if (this.members.size === 0) this.host.idle();
  }

  /** One message from a member in the session's group; anything from non-members is dropped. */
  handle(m: Member, el: Element, access: SessionAccess): void {
    const sub = this.members.get(m);
    if (!sub) return;
    if (sub.state === 'syncing') {
      // Until sync-ack everything else is swallowed by the synchronisation (§3.6, quirk 11).
      if (el.name === 'sync-ack') sub.state = 'ready';
      else if (el.name === 'sync-error') this.remove(m);
      return;
    }
    try {
      if (el.name === 'session-unsubscribe') return this.remove(m);
      const handler = this.host.handlers.get(el.name);
      // Unknown session messages are ignored ("Received unhandled XML message", §5.7).
      if (!handler) this.host.log(`Session ${this.group}: unhandled message "${el.name}" from ${m.remote}`);
      else handler(m, el, access);
    } catch (err) {
      this.host.log(`Session ${this.group}: error in "${el.name}" from ${m.remote}: ${(err as Error).message}`);
      this.host.failed?.(m, el, err as Error);
    }
  }
}

/**
 * The "K/N" seq of a reply to a session request (infd_session_proxy_make_seq); an unreadable
 * seq throws its INF_REQUEST_ERROR, which is answered without a seq.
 */
export function replySeq(el: Element, seqId: number): string | undefined {
  const n = requestSeq(el);
  return n === undefined ? undefined : formatReplySeq(seqId, n);
}

/**
 * infd_session_proxy's user id counter: one past the last id it saw that was not below it, in 32
 * bits, so 4294967295 wraps it to 0. It sees a session's first users in the order the proxy met
 * them (a stored document: the user table's order; an upload: the synchronisation's) and then
 * every new user. Where it names no usable id (0, at which infinoted aborts the join, or an id in
 * use) tandemd takes the smallest free one (docs/server.md).
 */
export class UserIdCounter {
  private next = 1;

  constructor(ids: Iterable<number> = []) {
    for (const id of ids) this.saw(id);
  }

  saw(id: number): void {
    if (this.next <= id) this.next = (id + 1) >>> 0;
  }

  /** The id for a new user; `used`: the ids the session has. */
  take(used: { has(id: number): boolean }): number {
    let id = this.next;
    if (id === 0 || used.has(id)) {
      id = 1;
      while (used.has(id)) id++;
    }
    this.saw(id);
    return id;
  }
}
