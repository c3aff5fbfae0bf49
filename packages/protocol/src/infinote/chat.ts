/**
 * Chat messages (protocol.md 5.9; inf-chat-session.c): live <message user [type]>text</message>
 * and the backlog form with a `time` stamp sent during synchronisation.
 */
import { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';
import { appendText, appendTextBytes, readText, readTextBytes, textOfBytes, utf8TextOf } from '../xml/text.js';
import { optionalAttr, parseUint, uintAttr } from './values.js';

export type ChatMessageType = 'normal' | 'emote' | 'userjoin' | 'userpart';

export interface ChatMessage {
  user: number;
  type: ChatMessageType;
  /** The text; what is no UTF-8 in `raw` reads as U+FFFD. */
  text: string;
  /**
   * The text as libinfinity holds it, where that is not `text` in UTF-8: a <uchar/> may carry a
   * surrogate or a value past U+10FFFF, which a chat session keeps unchecked and sends back as
   * it reads it (inf_xml_util_get_child_text / _add_child_text). Sent instead of `text`.
   */
  raw?: Uint8Array;
  /** Seconds since the epoch; only in the sync backlog (the receiver stamps live messages). */
  time?: number;
}

export function decodeChatMessage(el: Element): ChatMessage {
  const typeText = optionalAttr(el, 'type') ?? 'normal';
  if (typeText !== 'normal' && typeText !== 'emote' && typeText !== 'userjoin' && typeText !== 'userpart') {
    throw new InfError('INF_CHAT_SESSION_ERROR', ErrorCodes.INF_CHAT_SESSION_ERROR.TYPE_INVALID, `Invalid message type: "${typeText}"`);
  }
  const user = uintAttr(el, 'user');
  let msg: ChatMessage;
  // Only a <uchar/> can make the bytes something other than the text's UTF-8.
  if (!el.children.some((c) => typeof c !== 'string' && c.name === 'uchar')) msg = { user, type: typeText, text: readText(el) };
  else {
    const raw = readTextBytes(el);
    const text = utf8TextOf(raw);
    msg = text !== undefined ? { user, type: typeText, text } : { user, type: typeText, text: textOfBytes(raw), raw };
  }
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
  return msg.raw ? appendTextBytes(el, msg.raw) : appendText(el, msg.text);
}
