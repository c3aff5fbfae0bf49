/**
 * Receiving a synchronisation from a client (sync-in, protocol.md §3.7 and §4): the client is
 * the synchroniser and the server the receiver. Validates the message sequence like
 * inf_session_handle_received_sync_message and collects the state for a new session, within the
 * server's limits: the announced message count, the bytes the connection's sync-ins may hold, the
 * users of a session and the length of a document.
 */
import { AdoptedErrorDomain, AdoptedSession, isAdoptedError } from '@tandem/adopted';
import {
  Element, ErrorCodes, InfError, type Segment, type UserStatus,
  decodeSyncBegin, decodeSyncRequest, decodeSyncSegment, decodeSyncUser, requestFromWireSync,
} from '@tandem/protocol';
import { type DirectoryLimits, type SessionLimits, codePointLength, defaultDirectoryLimits } from '../limits.js';
import { UserIdCounter } from './members.js';

const SYNC = ErrorCodes.INF_SESSION_SYNC_ERROR;

/** The bytes held by the running sync-ins of one connection (shared by its receivers). */
export interface SyncInBudget {
  used: number;
}

/**
 * A sync-in past a limit fails with a sync-error that keeps its text: clients replace the text
 * of INF_SESSION_SYNC_ERROR errors by their own (protocol.md 3.13), so this is a directory error.
 */
function overLimit(message: string): InfError {
  return new InfError('INF_DIRECTORY_ERROR', ErrorCodes.INF_DIRECTORY_ERROR.FAILED, message);
}

/** Size of an element as it came over the wire, near enough: markup, attributes, UTF-8 text. */
function xmlSize(el: Element): number {
  let n = 2 * el.name.length + 5;
  for (const [k, v] of Object.entries(el.attrs)) n += k.length + 4 + Buffer.byteLength(String(v));
  for (const c of el.children) n += typeof c === 'string' ? Buffer.byteLength(c) : xmlSize(c);
  return n;
}

/** A synchronised user: what the engine does not hold. */
export interface ReceivedUser {
  id: number;
  name: string;
  status: UserStatus;
  hue: number;
}

export interface ReceivedState {
  users: ReceivedUser[];
  /** The user id counter of the upload's proxy, which saw the users as they arrived. */
  ids: UserIdCounter;
  /** The session's engine, built from the users, requests and text as they arrived. */
  engine: AdoptedSession;
  segments: Segment[];
}

export type SyncStep = { done: false } | { done: true; state: ReceivedState };

/** Runs an engine step; its AdoptedError becomes the INF_ADOPTED_SESSION_ERROR a sync-error carries. */
function adopted<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (!isAdoptedError(err)) throw err;
    throw new InfError('INF_ADOPTED_SESSION_ERROR', err.domain === AdoptedErrorDomain.SESSION ? err.code : ErrorCodes.INF_ADOPTED_SESSION_ERROR.INVALID_REQUEST, err.message);
  }
}

export class SyncInReceiver {
  private expected: number | undefined;
  private received = 0;
  private readonly users: ReceivedUser[] = [];
  private readonly segments: Segment[] = [];
  /** Bytes of this sync-in counted in the budget. */
  private taken = 0;
  /** Code points of the segments so far. */
  private length = 0;

  /** The users and request logs so far, checked as they arrive. */
  private readonly sync = AdoptedSession.receiveSync();
  /** The ids of the users so far. */
  private readonly ids = new Set<number>();

  constructor(
    private readonly limits: DirectoryLimits & SessionLimits = defaultDirectoryLimits,
    private readonly budget: SyncInBudget = { used: 0 },
    /** Whether the uploader subscribes to the new session (`<sync-in/><subscribe/>`). */
    private readonly subscribing = false,
  ) {}

  /** Gives this sync-in's bytes back to the budget (it is over: done or failed). */
  release(): void {
    this.budget.used -= this.taken;
    this.taken = 0;
  }

  /** Feeds one message; throws InfError (sent back as sync-error) when the sync is bad. */
  feed(el: Element): SyncStep {
    const size = xmlSize(el);
    if (this.budget.used + size > this.limits.maxSyncInBytes) {
      throw overLimit(`The synchronisation is larger than the server accepts (${this.limits.maxSyncInBytes} bytes)`);
    }
    this.budget.used += size;
    this.taken += size;
    if (el.name === 'sync-cancel') {
      throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.SENDER_CANCELLED, 'The sender cancelled the synchronization');
    }
    if (this.expected === undefined) {
      if (el.name !== 'sync-begin') {
        throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.EXPECTED_BEGIN_OF_SYNC, 'Expected begin-of-sync message as first message during synchronization');
      }
      const announced = decodeSyncBegin(el).numMessages;
      // Checked before anything is collected, so nothing is held for an upload that cannot succeed.
      if (announced > this.limits.maxSyncInMessages) {
        throw overLimit(`The synchronisation announces ${announced} messages, more than the server accepts (${this.limits.maxSyncInMessages})`);
      }
      this.expected = announced;
      return { done: false };
    }
    if (el.name === 'sync-begin') {
      throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.UNEXPECTED_BEGIN_OF_SYNC, 'Got begin-of-sync message, but synchronization is already in progress');
    }
    if (el.name === 'sync-end') {
      if (this.received < this.expected) {
        throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.UNEXPECTED_END_OF_SYNC, 'Got end-of-sync message, but synchronization is still in progress');
      }
      // The proxy of an upload exists before its users arrive: it counts ids in their order.
      return { done: true, state: { users: this.users, ids: new UserIdCounter(this.users.map((u) => u.id)), engine: adopted(() => this.sync.finish(this.segments)), segments: this.segments } };
    }
    if (this.received >= this.expected) {
      throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.EXPECTED_END_OF_SYNC, 'Expected end-of-sync message as last message during synchronization');
    }
    this.received++;
    switch (el.name) {
      case 'sync-user': {
        const users = this.users;
        // Id 0 is no user (the author of text nobody wrote); infinoted aborts on a sync-user
        // with it (and on an id that reads as 0: strtoul base 10 of "abc" or "0x10").
        const u = decodeSyncUser(el, { id: (id) => id === 0 || this.ids.has(id), name: (name) => users.some((x) => x.name === name) });
        if (users.length >= this.limits.maxUsersPerSession) {
          throw overLimit(`The document has more users than a session on this server may have (${this.limits.maxUsersPerSession})`);
        }
        // An available user belongs to the uploading connection, which must then subscribe:
        // otherwise infinoted's session proxy closes the session (infd_session_proxy_add_user_cb).
        if (u.status !== 'unavailable' && !this.subscribing) {
          throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.RECEIVER_CANCELLED, 'The receiver cancelled the synchronization');
        }
        // An available user is possible only when the uploader subscribes: it stays joined through it.
        this.sync.user({ id: u.id, name: u.name, status: u.status, vector: u.time, caret: u.caret, selection: u.selection });
        users.push({ id: u.id, name: u.name, status: u.status, hue: u.hue ?? Math.random() });
        this.ids.add(u.id);
        break;
      }
      case 'sync-request': {
        const r = decodeSyncRequest(el, (id) => {
          if (!this.ids.has(id)) {
            throw new InfError('INF_ADOPTED_SESSION_ERROR', ErrorCodes.INF_ADOPTED_SESSION_ERROR.NO_SUCH_USER, `No such user with user ID '${id}'`);
          }
        });
        // The checks of the user's request log so far (inf_adopted_session_validate_request).
        adopted(() => this.sync.request(requestFromWireSync(r)));
        break;
      }
      case 'sync-segment': {
        const s = decodeSyncSegment(el);
        if (s.author !== 0 && !this.ids.has(s.author)) {
          throw new InfError('INF_USER_ERROR', ErrorCodes.INF_USER_ERROR.NO_SUCH_USER, `No such user with ID '${s.author}'`);
        }
        this.length += codePointLength(s.text);
        if (this.length > this.limits.maxDocumentLength) {
          throw overLimit(`The document is longer than the server accepts (${this.limits.maxDocumentLength} characters)`);
        }
        if (s.text !== '') this.segments.push(s);
        break;
      }
      default:
        throw new InfError('INF_SESSION_SYNC_ERROR', SYNC.UNEXPECTED_NODE, `Received unexpected XML message "${el.name}" during synchronization`);
    }
    return { done: false };
  }
}
