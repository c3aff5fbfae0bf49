/**
 * libinfinity's error identity: a GLib quark name (domain) plus a numeric code, carried on the
 * wire by <request-failed>, <sync-error> and the <error> inside a SASL <failure>
 * (protocol.md 2.5, 3.13; libinfinity/common/inf-error.h). Callers branch on domain + code.
 */
import { Element } from '@xmpp/xml';
import { readText, appendText } from './xml/text.js';

/** Every domain and code that the 0.7 protocol puts on the wire, by libinfinity's enum names. */
export const ErrorCodes = {
  INF_REQUEST_ERROR: {
    UNKNOWN_DOMAIN: 0, REPLY_UNPROCESSED: 1, INVALID_SEQ: 2, NO_SUCH_ATTRIBUTE: 3,
    INVALID_ATTRIBUTE: 4, INVALID_NUMBER: 5, NOT_AUTHORIZED: 6, FAILED: 7,
  },
  INF_DIRECTORY_ERROR: {
    NO_WELCOME_MESSAGE: 0, VERSION_MISMATCH: 1, NODE_EXISTS: 2, INVALID_NAME: 3, NO_SUCH_NODE: 4,
    NO_SUCH_SUBSCRIPTION_REQUEST: 5, CHAT_DISABLED: 6, NOT_A_SUBDIRECTORY: 7, NOT_A_NOTE: 8,
    NOTE_TYPE_UNSUPPORTED: 9, ROOT_NODE_REMOVE_ATTEMPT: 10, NOT_EXPLORED: 11, ALREADY_EXPLORED: 12,
    NOT_INITIATED: 13, TOO_MANY_CHILDREN: 14, TOO_FEW_CHILDREN: 15, TYPE_UNKNOWN: 16,
    ALREADY_SUBSCRIBED: 17, UNSUBSCRIBED: 18, NETWORK_UNSUPPORTED: 19, METHOD_UNSUPPORTED: 20,
    OPERATION_UNSUPPORTED: 21, UNEXPECTED_SYNC_IN: 22, SUBSCRIPTION_REJECTED: 23,
    UNEXPECTED_MESSAGE: 24, NO_STORAGE: 25, INVALID_CERTIFICATE: 26,
    ACCOUNT_LIST_ALREADY_QUERIED: 27, ACCOUNT_LIST_NOT_QUERIED: 28, DUPLICATE_ACCOUNT: 29,
    NO_SUCH_ACCOUNT: 30, ACL_ALREADY_QUERIED: 31, ACL_NOT_QUERIED: 32, FAILED: 33,
  },
  INF_USER_ERROR: {
    NAME_IN_USE: 0, ID_PROVIDED: 1, NO_SUCH_USER: 2, STATUS_UNAVAILABLE: 3, NOT_JOINED: 4,
    INVALID_STATUS: 5, FAILED: 6,
  },
  INF_SESSION_SYNC_ERROR: {
    GOT_MESSAGE_IN_PRESYNC: 0, UNEXPECTED_NODE: 1, ID_NOT_PRESENT: 2, ID_IN_USE: 3,
    NAME_NOT_PRESENT: 4, NAME_IN_USE: 5, CONNECTION_CLOSED: 6, SENDER_CANCELLED: 7,
    RECEIVER_CANCELLED: 8, UNEXPECTED_BEGIN_OF_SYNC: 9, NUM_MESSAGES_MISSING: 10,
    UNEXPECTED_END_OF_SYNC: 11, EXPECTED_BEGIN_OF_SYNC: 12, EXPECTED_END_OF_SYNC: 13, FAILED: 14,
  },
  INF_ADOPTED_SESSION_ERROR: {
    NO_SUCH_USER: 0, MISSING_OPERATION: 1, INVALID_REQUEST: 2, MISSING_STATE_VECTOR: 3, FAILED: 4,
  },
  INF_ADOPTED_ALGORITHM_ERROR: { NO_UNDO: 0, NO_REDO: 1, FAILED: 2 },
  INF_ADOPTED_STATE_VECTOR_ERROR: { BAD_FORMAT: 0, FAILED: 1 },
  INF_TEXT_SESSION_ERROR: { INVALID_HUE: 0, FAILED: 1 },
  INF_CHAT_SESSION_ERROR: { TYPE_INVALID: 0, NO_SUCH_USER: 1, FAILED: 2 },
  INF_AUTHENTICATION_DETAIL_ERROR: {
    AUTHENTICATION_FAILED: 0, USER_NOT_AUTHORIZED: 1, TRY_AGAIN: 2, SERVER_ERROR: 3,
  },
  INFD_FILESYSTEM_STORAGE_ERROR: { INVALID_PATH: 0, REMOVE_FILES: 1, INVALID_FORMAT: 2, FAILED: 3 },
  // Reading a stored document (inf-text-filesystem-format.c, infd-chat-filesystem-format.c): a
  // subscription to a note whose file cannot be read fails with these.
  INF_TEXT_FILESYSTEM_FORMAT_ERROR: { NOT_A_TEXT_SESSION: 0, USER_EXISTS: 1, NO_SUCH_USER: 2 },
  /** libinfinity raises a segment's unknown author under this domain name, with code NO_SUCH_USER (2). */
  INF_NOTE_PLUGIN_TEXT_ERROR: { NO_SUCH_USER: 2 },
  INFD_CHAT_FILESYSTEM_FORMAT_ERROR: { NOT_A_CHAT_SESSION: 0 },
} as const;

export type KnownErrorDomain = keyof typeof ErrorCodes;
/** A domain is any quark name; unknown ones (G_FILE_ERROR, INF_GNUTLS_ERROR, ...) pass through. */
export type ErrorDomain = KnownErrorDomain | (string & {});

/** The generic messages of inf-error.c (inf_*_strerror), for errors raised without a specific text. */
const MESSAGES: Partial<Record<KnownErrorDomain, readonly string[]>> = {
  INF_REQUEST_ERROR: [
    'Received error from an unknown domain', 'Failed to process server reply',
    'Server reply contains invalid sequence number', 'A required attribute was not set in request',
    'An attribute did not have valid content', 'An attribute contained an invalid number',
    'Not authorized', 'An unknown request error occurred',
  ],
  INF_USER_ERROR: [
    'Name is already in use', "'id' attribute provided in request", 'There is no user with the given ID',
    "'status' attribute is 'unavailable' in join or rejoin request", 'User did not join via this connection',
    "'status' attribute has invalid value", 'An unknown user error occurred',
  ],
  INF_DIRECTORY_ERROR: [
    'Server did not send an initial welcome message', 'The server and client use different protocol versions',
    'A node with this name exists already', 'Invalid node name', 'Node does not exist',
    'No previous subscription request present', 'The chat is disabled on the server side',
    'Node is not a subdirectory', 'Node is not a note', 'The node type is not supported by the server',
    'The root node cannot be removed', 'Subdirectory is not explored', 'Subdirectory has already been explored',
    'The server started to send explored nodes before telling how many', 'Server sent more explored nodes then announced',
    'Server sent not as much explored nodes as announced',
    'The session does not support the network through which the connection attempt is being made',
    'The session uses an unsupported communication method', 'The requested operation is not supported by the server',
    'Received sync-in message without having requested a sync-in', 'Client rejected subscription',
    'Unexpected XML message', 'Server does not have a background storage',
    'The certificate is invalid or not trusted', 'The account list has already been queried before',
    'The account list has not been queried', 'An account with this ID exists already',
    'There is no such account with the given ID', 'The ACL has already been queried', 'The ACL has not been queried',
    'An unknown directory error has occurred',
  ],
  INF_SESSION_SYNC_ERROR: [
    'Unexpectedly got an XML message in presync', 'Got unexpected XML node during synchronization',
    "'id' attribute in user message is missing", 'User ID is already in use',
    "'name' attribute in user message is missing", 'User Name is already in use',
    'The connection was closed unexpectedly', 'The sender cancelled the synchronization',
    'The receiver cancelled the synchronization',
    'Got begin-of-sync message, but synchronization is already in progress',
    'begin-of-sync message does not contain the number of messages to expect',
    'Got end-of-sync message, but synchronization is still in progress',
    'Expected begin-of-sync message as first message during synchronization',
    'Expected end-of-sync message as last message during synchronization',
    'An unknown synchronization error has occurred',
  ],
  INF_AUTHENTICATION_DETAIL_ERROR: [
    'User did not provide valid credentials.', 'User is not permitted to connect to this server.',
    'Authentication was temporarily interrupted on the server side.',
    // sic: the typo is what infinoted sends
    'An error cocured while checking user permissions.',
  ],
};

/** The generic text libinfinity uses for (domain, code), or a neutral one for unknown pairs. */
export function defaultErrorMessage(domain: ErrorDomain, code: number): string {
  const list = MESSAGES[domain as KnownErrorDomain];
  return list?.[code] ?? 'An error with unknown error code occurred';
}

export class InfError extends Error {
  override readonly name = 'InfError';
  constructor(
    readonly domain: ErrorDomain,
    readonly code: number,
    message?: string,
  ) {
    super(message ?? defaultErrorMessage(domain, code));
  }

  /** True for a given domain and code; prefer this to instanceof checks on subclasses. */
  is(domain: ErrorDomain, code: number): boolean {
    return this.domain === domain && this.code === code;
  }
}

/** Shorthand constructors for the common wire errors (messages as infinoted words them). */
export const requestError = (code: number, message?: string): InfError =>
  new InfError('INF_REQUEST_ERROR', code, message);

function codeOf(el: Element, what: string): number {
  const raw = el.attrs.code;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) {
    throw requestError(ErrorCodes.INF_REQUEST_ERROR.INVALID_NUMBER, `Attribute 'code' of '${what}' does not contain a valid number`);
  }
  return Number(raw);
}

function domainOf(el: Element, what: string): string {
  const d = el.attrs.domain;
  if (typeof d !== 'string') {
    throw requestError(ErrorCodes.INF_REQUEST_ERROR.NO_SUCH_ATTRIBUTE, `Request '${what}' does not contain required attribute 'domain'`);
  }
  return d;
}

/** `<request-failed code domain [seq]>message</request-failed>` (attribute order as infinoted). */
export function toRequestFailed(err: InfError, seq?: string): Element {
  const el = new Element('request-failed', { code: String(err.code), domain: err.domain });
  if (seq !== undefined) el.attrs.seq = seq;
  return appendText(el, err.message);
}

export function fromRequestFailed(el: Element): { error: InfError; seq?: string } {
  const error = new InfError(domainOf(el, el.name), codeOf(el, el.name), readText(el));
  const seq = el.attrs.seq;
  return typeof seq === 'string' ? { error, seq } : { error };
}

/** `<sync-error code domain>message</sync-error>` (protocol.md 4.1). */
export function toSyncError(err: InfError): Element {
  return appendText(new Element('sync-error', { code: String(err.code), domain: err.domain }), err.message);
}

export function fromSyncError(el: Element): InfError {
  return new InfError(domainOf(el, 'sync-error'), codeOf(el, 'sync-error'), readText(el));
}

/** The detail `<error code domain>text</error>` inside a SASL failure condition (protocol.md 1.5). */
export function toErrorElement(err: InfError): Element {
  return appendText(new Element('error', { code: String(err.code), domain: err.domain }), err.message);
}

export function fromErrorElement(el: Element): InfError {
  return new InfError(domainOf(el, 'error'), codeOf(el, 'error'), readText(el));
}
