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
  /** Connections sent a subscribe-chat reply and not yet acked or nacked. */
  private readonly requests = new Set<Member>();

  constructor(ctx: ChatContext) {
    this.session = new ChatSession(CHAT_GROUP, ctx);
  }

  /** subscribe-chat: the reply that asks the client to ack; a second subscription is refused. */
  request(m: Member, seq: string | undefined): DirectoryReply {
    if (this.session.isSubscribed(m) || this.requests.has(m)) {
      throw new InfError('INF_DIRECTORY_ERROR', DIR.ALREADY_SUBSCRIBED, 'The chat is already subscribed');
    }
    this.requests.add(m);
    return { kind: 'subscribe-chat', group: CHAT_GROUP, method: 'central', ...(seq !== undefined ? { seq } : {}) };
  }

  /** An id-less subscribe-ack: the chat's users and backlog follow (infd_directory_handle_subscribe_ack). */
  ack(m: Member): void {
    this.take(m);
    this.session.subscribe(m, true);
  }

  nack(m: Member): void {
    this.take(m);
  }

  private take(m: Member): void {
    if (!this.requests.delete(m)) {
      throw new InfError('INF_DIRECTORY_ERROR', DIR.NO_SUCH_SUBSCRIPTION_REQUEST, 'No subscription request for the server chat');
    }
  }

  /** The connection is gone: its request is dropped and its users part. */
  remove(m: Member): void {
    this.requests.delete(m);
    this.session.removeMember(m);
  }
}
