/**
 * Directory messages of group InfDirectory (protocol.md 3), both directions, as discriminated
 * unions with symmetric decode/encode. Attribute orders are the ones on the wire: client
 * requests as libinfinity's InfcBrowser writes them, replies as InfdDirectory writes them.
 */
import { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';
import { appendText, readText } from '../xml/text.js';
import { accountAttrs, decodeAccount, decodeAcl, decodePerms, encodeAcl, encodePerms, type AclAccount, type AclPerms, type AclSheet } from './acl.js';
import { requestSeq } from './group.js';
import { optionalAttr, parseUint, requireAttr, uintAttr } from './values.js';

/** Requests a client sends (C->S). `seq` is the client's counter. */
export type DirectoryRequest =
  | { kind: 'explore-node'; seq?: number; id: number }
  | { kind: 'add-node'; seq?: number; parent: number; type: string; name: string; acl?: AclSheet[]; subscribe: boolean; syncIn: boolean }
  | { kind: 'remove-node'; seq?: number; id: number }
  | { kind: 'subscribe-session'; seq?: number; id: number }
  | { kind: 'subscribe-ack'; id?: number }
  | { kind: 'subscribe-nack'; id?: number }
  | { kind: 'save-session'; seq?: number; id: number }
  | { kind: 'subscribe-chat'; seq?: number }
  | { kind: 'query-acl-account-list'; seq?: number }
  | { kind: 'lookup-acl-accounts'; seq?: number; ids: string[]; names: string[] }
  | { kind: 'create-acl-account'; seq?: number; crq: string }
  | { kind: 'remove-acl-account'; seq?: number; id: string }
  | { kind: 'query-acl'; seq?: number; id: number }
  | { kind: 'set-acl'; seq?: number; id: number; sheets: AclSheet[] };

/** Messages the server sends (S->C): replies (with the requester's "K/N" seq) and notifications. */
export type DirectoryReply =
  | { kind: 'welcome'; protocolVersion: string; sequenceId: number; notePlugins: string[]; account?: AclAccount; acl?: AclSheet[] }
  | { kind: 'explore-begin'; total: number; seq?: string }
  | { kind: 'explore-end'; seq?: string }
  | { kind: 'add-node'; id: number; parent: number; name: string; type: string; seq?: string; acl?: AclSheet[]; subscribe?: { group: string; method: string } }
  | { kind: 'remove-node'; id: number; seq?: string }
  | { kind: 'subscribe-session'; group: string; method: string; id: number; seq?: string }
  | { kind: 'sync-in'; id: number; parent: number; name: string; type: string; group: string; method: string; seq?: string; subscribe: boolean }
  /** infinoted 0.7.2 sends "session-saved" although its clients expect "saved-session" (protocol.md 10.1). */
  | { kind: 'session-saved'; seq?: string; name: 'session-saved' | 'saved-session' }
  | { kind: 'subscribe-chat'; group: string; method: string; seq?: string }
  | { kind: 'acl-account-list-begin'; notificationsEnabled: boolean; total: number; seq?: string }
  | { kind: 'add-acl-account'; account: AclAccount; seq?: string }
  | { kind: 'acl-account-list-end'; seq?: string }
  | { kind: 'remove-acl-account'; id: string; seq?: string }
  | { kind: 'lookup-acl-accounts'; seq?: string; accounts: AclAccount[] }
  | { kind: 'create-acl-account'; seq?: string; account: AclAccount; certificate: string }
  | { kind: 'set-acl'; id: number; seq?: string; acl?: AclSheet[] }
  | { kind: 'change-acl-account'; account: AclAccount; nodes: { nodeId: number; perms: AclPerms }[] }
  | { kind: 'request-failed'; error: InfError; seq?: string };

/** The infd-directory.c answer to anything else (INF_DIRECTORY_ERROR 24). */
export function unexpectedMessage(name: string): InfError {
  return new InfError('INF_DIRECTORY_ERROR', ErrorCodes.INF_DIRECTORY_ERROR.UNEXPECTED_MESSAGE, `Received unexpected network message "${name}"`);
}

const withSeq = <T extends object>(msg: T, seq: number | undefined): T & { seq?: number } =>
  seq === undefined ? msg : { ...msg, seq };

const withReplySeq = <T extends object>(msg: T, el: Element): T & { seq?: string } => {
  const seq = optionalAttr(el, 'seq');
  return seq === undefined ? msg : { ...msg, seq };
};

/** Decodes a C->S directory message; throws InfError (use requestSeq(el) to address the reply). */
export function decodeDirectoryRequest(el: Element): DirectoryRequest {
  const seq = requestSeq(el);
  switch (el.name) {
    case 'explore-node':
    case 'remove-node':
    case 'subscribe-session':
    case 'save-session':
    case 'query-acl':
      return withSeq({ kind: el.name, id: uintAttr(el, 'id') }, seq);
    case 'add-node': {
      const acl = el.getChild('acl');
      const msg: DirectoryRequest = {
        kind: 'add-node',
        parent: uintAttr(el, 'parent'),
        type: requireAttr(el, 'type'),
        name: requireAttr(el, 'name'),
        subscribe: el.getChild('subscribe') !== undefined,
        syncIn: el.getChild('sync-in') !== undefined,
      };
      if (acl) msg.acl = decodeAcl(acl);
      return withSeq(msg, seq);
    }
    case 'subscribe-ack':
    case 'subscribe-nack': {
      const id = optionalAttr(el, 'id');
      return id === undefined ? { kind: el.name } : { kind: el.name, id: parseUint('id', id) };
    }
    case 'subscribe-chat':
    case 'query-acl-account-list':
      return withSeq({ kind: el.name }, seq);
    case 'lookup-acl-accounts':
      return withSeq({
        kind: 'lookup-acl-accounts',
        ids: el.getChildren('id').map(readText),
        names: el.getChildren('name').map(readText),
      }, seq);
    case 'create-acl-account': {
      const crq = el.getChild('crq');
      if (!crq) throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NO_SUCH_ATTRIBUTE, "Request 'create-acl-account' does not contain a 'crq' child");
      return withSeq({ kind: 'create-acl-account', crq: readText(crq) }, seq);
    }
    case 'remove-acl-account':
      return withSeq({ kind: 'remove-acl-account', id: requireAttr(el, 'id') }, seq);
    case 'set-acl': {
      const acl = el.getChild('acl');
      if (!acl) throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.NO_SUCH_ATTRIBUTE, 'The set-acl request does not have any ACL provided');
      return withSeq({ kind: 'set-acl', id: uintAttr(el, 'id'), sheets: decodeAcl(acl) }, seq);
    }
    default:
      throw unexpectedMessage(el.name);
  }
}

/** Encodes a C->S directory message with the client's attribute order (seq first). */
export function encodeDirectoryRequest(msg: DirectoryRequest): Element {
  const el = new Element(msg.kind);
  if ('seq' in msg && msg.seq !== undefined) el.attrs.seq = String(msg.seq);
  switch (msg.kind) {
    case 'explore-node':
    case 'remove-node':
    case 'subscribe-session':
    case 'save-session':
    case 'query-acl':
      el.attrs.id = String(msg.id);
      return el;
    case 'add-node':
      Object.assign(el.attrs, { parent: String(msg.parent), type: msg.type, name: msg.name });
      if (msg.acl) el.cnode(encodeAcl(msg.acl));
      if (msg.syncIn) el.c('sync-in');
      if (msg.subscribe) el.c('subscribe');
      return el;
    case 'subscribe-ack':
    case 'subscribe-nack':
      if (msg.id !== undefined) el.attrs.id = String(msg.id);
      return el;
    case 'subscribe-chat':
    case 'query-acl-account-list':
      return el;
    case 'lookup-acl-accounts':
      for (const id of msg.ids) el.cnode(appendText(new Element('id'), id));
      for (const name of msg.names) el.cnode(appendText(new Element('name'), name));
      return el;
    case 'create-acl-account':
      el.cnode(appendText(new Element('crq'), msg.crq));
      return el;
    case 'remove-acl-account':
      el.attrs.id = msg.id;
      return el;
    case 'set-acl':
      el.attrs.id = String(msg.id);
      el.cnode(encodeAcl(msg.sheets));
      return el;
  }
}

function subscribeOf(el: Element): { group: string; method: string } {
  return { group: requireAttr(el, 'group'), method: requireAttr(el, 'method') };
}

/** Decodes a S->C directory message (client side). */
export function decodeDirectoryReply(el: Element): DirectoryReply {
  switch (el.name) {
    case 'welcome': {
      const plugins = el.getChild('note-plugins');
      const account = el.getChild('account');
      const acl = el.getChild('acl');
      const msg: DirectoryReply = {
        kind: 'welcome',
        protocolVersion: requireAttr(el, 'protocol-version'),
        sequenceId: uintAttr(el, 'sequence-id'),
        notePlugins: plugins ? plugins.getChildren('note-plugin').map((p) => requireAttr(p, 'type')) : [],
      };
      if (account) msg.account = decodeAccount(account);
      if (acl) msg.acl = decodeAcl(acl);
      return msg;
    }
    case 'explore-begin':
      return withReplySeq({ kind: 'explore-begin', total: uintAttr(el, 'total') }, el);
    case 'explore-end':
    case 'acl-account-list-end':
      return withReplySeq({ kind: el.name }, el);
    case 'add-node': {
      const msg: DirectoryReply = withReplySeq({
        kind: 'add-node', id: uintAttr(el, 'id'), parent: uintAttr(el, 'parent'), name: requireAttr(el, 'name'), type: requireAttr(el, 'type'),
      }, el);
      const acl = el.getChild('acl');
      const sub = el.getChild('subscribe');
      if (acl) msg.acl = decodeAcl(acl);
      if (sub) msg.subscribe = subscribeOf(sub);
      return msg;
    }
    case 'remove-node':
      return withReplySeq({ kind: 'remove-node', id: uintAttr(el, 'id') }, el);
    case 'subscribe-session':
      return withReplySeq({ kind: 'subscribe-session', ...subscribeOf(el), id: uintAttr(el, 'id') }, el);
    case 'sync-in':
      return withReplySeq({
        kind: 'sync-in', id: uintAttr(el, 'id'), parent: uintAttr(el, 'parent'), name: requireAttr(el, 'name'),
        type: requireAttr(el, 'type'), ...subscribeOf(el), subscribe: el.getChild('subscribe') !== undefined,
      }, el);
    case 'session-saved':
    case 'saved-session':
      return withReplySeq({ kind: 'session-saved', name: el.name }, el);
    case 'subscribe-chat':
      return withReplySeq({ kind: 'subscribe-chat', ...subscribeOf(el) }, el);
    case 'acl-account-list-begin':
      return withReplySeq({
        kind: 'acl-account-list-begin',
        notificationsEnabled: optionalAttr(el, 'notifications-enabled') === '1' || optionalAttr(el, 'notifications-enabled') === 'true',
        total: uintAttr(el, 'total'),
      }, el);
    case 'add-acl-account':
      return withReplySeq({ kind: 'add-acl-account', account: decodeAccount(el) }, el);
    case 'remove-acl-account':
      return withReplySeq({ kind: 'remove-acl-account', id: requireAttr(el, 'id') }, el);
    case 'lookup-acl-accounts':
      return withReplySeq({ kind: 'lookup-acl-accounts', accounts: el.getChildren('account').map(decodeAccount) }, el);
    case 'create-acl-account': {
      const cert = el.getChild('certificate');
      return withReplySeq({ kind: 'create-acl-account', account: decodeAccount(el), certificate: cert ? readText(cert) : '' }, el);
    }
    case 'set-acl': {
      const acl = el.getChild('acl');
      const msg: DirectoryReply = withReplySeq({ kind: 'set-acl', id: uintAttr(el, 'id') }, el);
      if (acl) msg.acl = decodeAcl(acl);
      return msg;
    }
    case 'change-acl-account':
      return {
        kind: 'change-acl-account',
        account: decodeAccount(el),
        nodes: el.getChildren('acl').map((a) => ({ nodeId: uintAttr(a, 'node-id'), perms: decodePerms(a) })),
      };
    case 'request-failed': {
      const code = requireAttr(el, 'code');
      const error = new InfError(requireAttr(el, 'domain'), parseUint('code', code), readText(el));
      return withReplySeq({ kind: 'request-failed', error }, el);
    }
    default:
      throw unexpectedMessage(el.name);
  }
}

/** Encodes a S->C directory message in infinoted's attribute order (seq after the others). */
export function encodeDirectoryReply(msg: DirectoryReply): Element {
  const seq = (el: Element): Element => {
    if ('seq' in msg && msg.seq !== undefined) el.attrs.seq = msg.seq;
    return el;
  };
  switch (msg.kind) {
    case 'welcome': {
      const el = new Element('welcome', { 'protocol-version': msg.protocolVersion, 'sequence-id': String(msg.sequenceId) });
      const plugins = el.c('note-plugins');
      for (const p of msg.notePlugins) plugins.c('note-plugin', { type: p });
      if (msg.account) el.c('account', accountAttrs(msg.account));
      if (msg.acl && msg.acl.length > 0) el.cnode(encodeAcl(msg.acl));
      return el;
    }
    case 'explore-begin':
      return seq(new Element('explore-begin', { total: String(msg.total) }));
    case 'explore-end':
    case 'acl-account-list-end':
      return seq(new Element(msg.kind));
    case 'add-node': {
      const el = seq(new Element('add-node', { id: String(msg.id), parent: String(msg.parent), name: msg.name, type: msg.type }));
      if (msg.acl && msg.acl.length > 0) el.cnode(encodeAcl(msg.acl));
      if (msg.subscribe) el.c('subscribe', { group: msg.subscribe.group, method: msg.subscribe.method });
      return el;
    }
    case 'remove-node':
      return seq(new Element('remove-node', { id: String(msg.id) }));
    case 'subscribe-session':
      return seq(new Element('subscribe-session', { group: msg.group, method: msg.method, id: String(msg.id) }));
    case 'sync-in': {
      const el = seq(new Element('sync-in', {
        id: String(msg.id), parent: String(msg.parent), name: msg.name, type: msg.type, group: msg.group, method: msg.method,
      }));
      // infd_directory_handle_add_node: with <subscribe/> the sync group is the session group,
      // and the child repeats it (method first).
      if (msg.subscribe) el.c('subscribe', { method: msg.method, group: msg.group });
      return el;
    }
    case 'session-saved':
      return seq(new Element(msg.name));
    case 'subscribe-chat':
      return seq(new Element('subscribe-chat', { group: msg.group, method: msg.method }));
    case 'acl-account-list-begin':
      return seq(new Element('acl-account-list-begin', { 'notifications-enabled': msg.notificationsEnabled ? '1' : '0', total: String(msg.total) }));
    case 'add-acl-account':
      return seq(new Element('add-acl-account', accountAttrs(msg.account)));
    case 'remove-acl-account':
      return seq(new Element('remove-acl-account', { id: msg.id }));
    case 'lookup-acl-accounts': {
      const el = seq(new Element('lookup-acl-accounts'));
      for (const a of msg.accounts) el.c('account', accountAttrs(a));
      return el;
    }
    case 'create-acl-account': {
      // Capture 07: seq comes first here, then the account.
      const el = seq(new Element('create-acl-account'));
      Object.assign(el.attrs, accountAttrs(msg.account));
      el.cnode(appendText(new Element('certificate'), msg.certificate));
      return el;
    }
    case 'set-acl': {
      const el = seq(new Element('set-acl', { id: String(msg.id) }));
      if (msg.acl && msg.acl.length > 0) el.cnode(encodeAcl(msg.acl));
      return el;
    }
    case 'change-acl-account': {
      const el = new Element('change-acl-account', accountAttrs(msg.account));
      for (const n of msg.nodes) el.cnode(encodePerms(new Element('acl', { 'node-id': String(n.nodeId) }), n.perms));
      return el;
    }
    case 'request-failed': {
      const el = new Element('request-failed', { code: String(msg.error.code), domain: msg.error.domain });
      seq(el);
      return appendText(el, msg.error.message);
    }
  }
}
