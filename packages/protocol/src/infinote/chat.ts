/**
 * Chat messages (protocol.md 5.9; inf-chat-session.c): live <message user [type]>text</message>
 * and the backlog form with a `time` stamp sent during synchronisation.
 */
import { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';
import { appendText, readText } from '../xml/text.js';
import { optionalAttr, parseUint, uintAttr } from './values.js';

export type ChatMessageType = 'normal' | 'emote' | 'userjoin' | 'userpart';

export interface ChatMessage {
  user: number;
  type: ChatMessageType;
  text: string;
  /** Seconds since the epoch; only in the sync backlog (the receiver stamps live messages). */
  time?: number;
}

export function decodeChatMessage(el: Element): ChatMessage {
  const typeText = optionalAttr(el, 'type') ?? 'normal';
  if (typeText !== 'normal' && typeText !== 'emote' && typeText !== 'userjoin' && typeText !== 'userpart') {
    throw new InfError('INF_CHAT_SESSION_ERROR', ErrorCodes.INF_CHAT_SESSION_ERROR.TYPE_INVALID, `Invalid message type: "${typeText}"`);
  }
  const msg: ChatMessage = { user: uintAttr(el, 'user'), type: typeText, text: readText(el) };
  const time = optionalAttr(el, 'time');
  if (time !== undefined) msg.time = parseUint('time', time);
  return msg;
}

/** `<message [type] [time] user>text</message>`; `type` omitted for normal (capture 10). */
export function encodeChatMessage(msg: ChatMessage): Element {
  const el = new Element('message');
  if (msg.type !== 'normal') el.attrs.type = msg.type;
  if (msg.time !== undefined) el.attrs.time = String(msg.time);
  el.attrs.user = String(msg.user);
  return appendText(el, msg.text);
}
