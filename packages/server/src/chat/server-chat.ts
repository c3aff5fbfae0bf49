/**
 * The server-wide chat (infd_directory_enable_chat, protocol.md 3.9): one ChatSession in group
 * InfChat, always enabled as infinoted enables it, and the subscription requests that wait for
 * an id-less subscribe-ack. The directory checks can-subscribe-chat before calling request().
 */
import { ErrorCodes, InfError, type DirectoryReply } from '@tandem/protocol';
import type { Member } from '../session/text-session.js';
import { type ChatContext, ChatSession } from './chat-session.js';

export const CHAT_GROUP = 'InfChat';

const DIR = ErrorCodes.INF_DIRECTORY_ERROR;

export class ServerChat {
  readonly session: ChatSession;
  /** Subscribe-chat replies per connection not yet acked or nacked. */
  private readonly requests = new Map<Member, number>();

  constructor(ctx: ChatContext) {
    this.session = new ChatSession(CHAT_GROUP, ctx);
  }

  /**
   * subscribe-chat: the reply that asks the client to ack. As infinoted, a connection that is
   * subscribed or asked already gets another reply; its extra ack changes nothing.
   */
  request(m: Member, seq: string | undefined): DirectoryReply {
    this.requests.set(m, (this.requests.get(m) ?? 0) + 1);
    return { kind: 'subscribe-chat', group: CHAT_GROUP, method: 'central', ...(seq !== undefined ? { seq } : {}) };
  }

  hasRequest(m: Member): boolean {
    return this.requests.has(m);
  }

  /** An id-less subscribe-ack: the chat's users and backlog follow (infd_directory_handle_subscribe_ack). */
  ack(m: Member): void {
    this.take(m);
    // infinoted's proxy refuses a second subscription of a connection (an assertion in its log) and answers nothing.
    if (!this.session.isSubscribed(m)) this.session.subscribe(m, true);
  }

  nack(m: Member): void {
    this.take(m);
  }

  /**
   * One of this connection's requests. (libinfinity takes any connection's chat request here,
   * which would subscribe a connection whose can-subscribe-chat was never checked.)
   */
  private take(m: Member): void {
    const n = this.requests.get(m) ?? 0;
    if (n === 0) throw new InfError('INF_DIRECTORY_ERROR', DIR.NO_SUCH_SUBSCRIPTION_REQUEST, 'No subscription request for the server chat');
    if (n === 1) this.requests.delete(m);
    else this.requests.set(m, n - 1);
  }

  /** The connection is gone: its request is dropped and its users part. */
  remove(m: Member): void {
    this.requests.delete(m);
    this.session.removeMember(m);
  }
}
