/**
 * The InfDirectory group (infd-directory.c, protocol.md §3): welcome, explore-node, add-node
 * (with subscribe / sync-in), remove-node, subscribe-session and its ack/nack, save-session.
 * One handler per message and an explicit default (unexpected message, code 24).
 */
import {
  Element, ErrorCodes, InfError, type DirectoryReply, decodeAcl, encodeDirectoryReply, encodeSignal, formatReplySeq,
  optionalAttr, parseUint, requestSeq, requireAttr, toRequestFailed, toSyncError, uintAttr, unexpectedMessage,
} from '@tandem/protocol';
import { type AclHost, AclService } from '../acl/acl-service.js';
import { AccountStore } from '../accounts/account-store.js';
import type { AclAccount, AclSetting, AclSheet } from '@tandem/protocol';
import { describeNameProblem, nameKey, nameProblem } from '../storage/names.js';
import { fileError } from '../storage/file-errors.js';
import type { Storage } from '../storage/types.js';
import { DocumentJournal, contentHash, hasJournal, recoverFromJournal, removeJournal } from '../storage/journal.js';
import type { StoredTextDocument } from '../storage/text-format.js';
import { type SyncInBudget, SyncInReceiver } from '../session/sync-in.js';
import { type DirectoryLimits, type SessionLimits, defaultDirectoryLimits } from '../limits.js';
import { type InitialState, type Member, TextSession } from '../session/text-session.js';
import { type DirNode, SUBDIRECTORY, Tree } from './tree.js';
import type { DirectoryCall } from './call.js';
import { CHAT_GROUP, ServerChat } from '../chat/server-chat.js';
import { ChatSession } from '../chat/chat-session.js';
import type { SessionBridge } from '../plugins/bridge.js';

const DIR = ErrorCodes.INF_DIRECTORY_ERROR;
/** The note type of chat documents (note-chat plugin, protocol.md 5.9, 7.3). */
const CHAT_NOTE = 'InfChat';
export const DIRECTORY_GROUP = 'InfDirectory';

/** A pending subscription, waiting for subscribe-ack / subscribe-nack (keyed by node id). */
type Pending =
  | { kind: 'subscribe'; node: DirNode }
  | { kind: 'add-node'; parent: DirNode; id: number; name: string; type: string; seq?: string; acl: AclSheet[] }
  | { kind: 'sync-in'; parent: DirNode; id: number; name: string; type: string; subscribe: boolean; group: string; receiver?: SyncInReceiver; acl: AclSheet[] };

interface ClientState {
  seqId: number;
  explored: Set<DirNode>;
  pending: Map<number, Pending>;
  /** Messages of one connection are handled strictly in order, across all its groups. */
  queue: Promise<void>;
  /** What this connection's running sync-ins hold (maxSyncInBytes). */
  syncIn: SyncInBudget;
}

export interface DirectoryOptions {
  storage: Storage;
  /** Note types with a loaded plugin. */
  noteTypes: readonly string[];
  /** Idle sessions are saved and unloaded after this long (infinoted: 60 s). */
  idleUnloadMs: number;
  /** Read at every check, so a changed value applies at once; default defaultDirectoryLimits. */
  limits?: DirectoryLimits & SessionLimits;
  log(line: string): void;
  /** Plugin hooks; none when absent. */
  plugins?: SessionBridge;
  /** ACLs and accounts; default: accounts.xml of `storage`, no certificate authority. */
  acl?: AclService;
  /**
   * The crash journal of text documents (storage/journal.ts), where the storage has files for
   * it: fdatasync interval in ms (0: every edit). Absent: no journal.
   */
  journal?: { fsyncMs: number; compactBytes?: number };
}

class Reply extends InfError {}

/** saveAll could not write some documents; every other one was written. */
export class SaveAllError extends Error {
  constructor(readonly failures: readonly { path: string; error: Error }[]) {
    super(`${failures.length} document(s) could not be saved: ${failures.map((f) => `${f.path} (${f.error.message})`).join('; ')}`);
    this.name = 'SaveAllError';
  }
}

/** A request refused because it would take the server past one of its limits (limits.ts). */
function overLimit(message: string): InfError {
  return new Reply('INF_DIRECTORY_ERROR', DIR.FAILED, message);
}

export class Directory {
  private readonly tree = new Tree();
  private readonly clients = new Map<Member, ClientState>();
  private readonly sessions = new Map<number, TextSession>();
  /** The server-wide chat, always enabled like infinoted's (protocol.md 3.9). */
  private readonly chat = new ServerChat({ seqId: (m) => this.seqId(m), log: (line) => this.o.log(line), maxUsers: () => this.limits.maxUsersPerSession });
  /** Loaded InfChat documents by node id; their messages live only in memory, like infinoted's. */
  private readonly chatDocs = new Map<number, ChatSession>();
  private readonly idleTimers = new Map<number, NodeJS.Timeout>();
  /** The crash journals of loaded text sessions by node id. */
  private readonly journals = new Map<number, DocumentJournal>();
  /**
   * Sessions of removed documents that subscriptions still waiting for their ack hold, by node
   * id, with how many: as in infinoted, whose pending requests keep a reference to the session,
   * the session runs on for its subscribers until the last of them is answered (ack, nack or
   * the connection gone), and only then closes (session-close to everyone, the acked included).
   */
  private readonly orphans = new Map<number, { waiting: number; close: () => void }>();
  /** Serialises storage operations so a save never races a remove of the same node. */
  private chain: Promise<unknown> = Promise.resolve();
  readonly acl: AclService;

  constructor(private readonly o: DirectoryOptions) {
    this.acl = o.acl ?? new AclService({ storage: o.storage, accounts: new AccountStore(o.storage) });
  }

  private get limits(): DirectoryLimits & SessionLimits {
    return this.o.limits ?? defaultDirectoryLimits;
  }

  /** Reads accounts and (completing it like infinoted) the root ACL; call once before serving. */
  async init(): Promise<void> {
    await this.acl.init(this.aclHost());
    // Edits journaled before a crash go into their documents now, so that the root is whole
    // even for a server (infinoted) that knows nothing of journals.
    if (this.o.storage.journalFile) await this.recoverTree([]);
  }

  private async recoverTree(path: readonly string[]): Promise<void> {
    let entries;
    try {
      entries = await this.o.storage.list(path);
    } catch (err) {
      this.o.log(`Could not look for journals in /${path.join('/')}: ${(err as Error).message}`);
      return;
    }
    for (const e of entries) {
      const p = [...path, e.name];
      if (e.type === SUBDIRECTORY) await this.recoverTree(p);
      else if (e.type === 'InfText' && hasJournal(this.o.storage.journalFile!(p))) {
        await this.recover(p).catch((err: Error) => this.o.log(`Could not recover /${p.join('/')} from its journal: ${err.message}`));
      }
    }
  }

  /** The directory state the ACL code reads and enforces on (acl/acl-service.ts). */
  private aclHost(): AclHost {
    return {
      root: this.tree.root,
      node: (id) => this.tree.get(id),
      path: (n) => this.tree.path(n),
      members: () => this.clients.keys(),
      viewers: (n) => (n.parent ? this.explorers(n.parent) : [...this.clients.keys()]),
      send: (m, ...els) => m.sendGroup(DIRECTORY_GROUP, ...els),
      explored: (m) => [...(this.clients.get(m)?.explored ?? [])],
      unexplore: (m, n) => {
        const c = this.clients.get(m);
        if (c) for (const x of this.tree.subtree(n)) c.explored.delete(x);
      },
      subscribed: (m) => [...this.sessions].filter(([, s]) => s.isSubscribed(m)).map(([id]) => this.tree.get(id)).filter((n): n is DirNode => n !== undefined),
      unsubscribe: (m, n) => {
        const s = this.sessions.get(n.id);
        if (!s?.isSubscribed(m)) return;
        m.sendGroup(s.group, encodeSignal('session-close'));
        s.removeMember(m);
      },
      log: this.o.log,
    };
  }

  /** Permission check for one request (infd_directory_check_auth): INF_REQUEST_ERROR 6 when denied. */
  private check(m: Member, node: DirNode, ...settings: AclSetting[]): Promise<void> {
    return this.acl.check(m, node, ...settings);
  }

  private run<T>(job: () => Promise<T>): Promise<T> {
    const p = this.chain.then(job, job);
    this.chain = p.catch(() => undefined);
    return p;
  }

  // ---- connections ------------------------------------------------------------------------

  /** A connection finished authentication: give it a sequence id and the welcome (§3.1). */
  addClient(m: Member, account?: AclAccount): void {
    // One above the highest id in use (infd_directory_add_connection): a gap left by a
    // disconnect is not filled while a higher id lives.
    let seqId = 1;
    for (const c of this.clients.values()) if (c.seqId >= seqId) seqId = c.seqId + 1;
    this.clients.set(m, { seqId, explored: new Set(), pending: new Map(), queue: Promise.resolve(), syncIn: { used: 0 } });
    this.acl.connect(m, account);
    // The connection's account (if not default) and the root sheets it may see (§3.1).
    this.reply(m, { kind: 'welcome', protocolVersion: '1.1', sequenceId: seqId, notePlugins: sortedNoteTypes(this.o.noteTypes), ...this.acl.welcome(m) });
  }

  removeClient(m: Member): void {
    const c = this.clients.get(m);
    if (!c) return;
    this.clients.delete(m);
    for (const p of c.pending.values()) if (p.kind === 'add-node' || p.kind === 'sync-in') void this.removeUnacknowledged(p);
    this.acl.disconnect(m);
    this.chat.remove(m);
    for (const s of this.chatDocs.values()) s.removeMember(m);
    for (const s of this.sessions.values()) s.removeMember(m);
    for (const p of c.pending.values()) if (p.kind === 'subscribe') this.releaseOrphan(p.node.id);
  }

  seqId(m: Member): number {
    return this.clients.get(m)?.seqId ?? 0;
  }

  // ---- dispatch ---------------------------------------------------------------------------

  /**
   * A message of any group from an authenticated connection, handled after the connection's
   * earlier messages; the promise settles once it has been (a connection that ends waits for it).
   */
  handleGroup(m: Member, group: string, message: Element): Promise<void> {
    const c = this.clients.get(m);
    if (!c) return Promise.resolve();
    c.queue = c.queue.then(() => this.route(m, c, group, message)).catch((err: Error) => {
      this.o.log(`Internal error handling "${message.name}" from ${m.remote}: ${err.stack ?? err}`);
    });
    return c.queue;
  }

  private async route(m: Member, c: ClientState, group: string, message: Element): Promise<void> {
    if (!this.clients.has(m)) return;
    if (group === DIRECTORY_GROUP) {
      await this.handleDirectory(m, c, message);
      return;
    }
    // Sync-in groups route to their receiver, session groups to their session (§2.2).
    for (const p of c.pending.values()) {
      if (p.kind === 'sync-in' && p.group === group && p.receiver) {
        await this.syncInMessage(m, c, p, message);
        return;
      }
    }
    if (group === CHAT_GROUP) {
      this.chat.session.handle(m, message);
      return;
    }
    const m2 = /^InfSession_(\d+)$/.exec(group);
    if (!m2) return;
    const id = Number(m2[1]);
    // can-join-user is read here, before the session sees the join, because ACLs load
    // asynchronously; this connection's next message waits for it (protocol.md 5.2).
    const node = this.tree.get(id);
    const access = { joinUser: message.name !== 'user-join' || !node || (await this.acl.can(m, node, 'can-join-user')) };
    if (!this.clients.has(m)) return;
    const session = this.sessions.get(id);
    // Messages to a group the connection is not in are dropped silently (§2.1).
    if (session) session.handle(m, message, access);
    else this.chatDocs.get(id)?.handle(m, message, access);
  }

  /** Sends one directory message to one connection. */
  private reply(m: Member, msg: DirectoryReply): void {
    m.sendGroup(DIRECTORY_GROUP, encodeDirectoryReply(msg));
  }

  private async handleDirectory(m: Member, c: ClientState, el: Element): Promise<void> {
    // The reply's seq (infd_directory_make_seq) is read where each handler of libinfinity reads
    // it: an invalid seq is reported only once the checks before that point have passed, and
    // an error reply carries the seq whenever it is valid, whichever check failed.
    let seq: string | undefined;
    let seqError: InfError | undefined;
    try {
      const n = requestSeq(el);
      if (n !== undefined) seq = formatReplySeq(c.seqId, n);
    } catch (err) {
      seqError = err as InfError;
    }
    const r: DirectoryCall = {
      el,
      makeSeq: () => {
        if (seqError) throw seqError;
        return seq;
      },
    };
    try {
      if (AclService.handles(el.name)) return await this.acl.handle(m, r);
      switch (el.name) {
        case 'explore-node': return await this.exploreNode(m, c, r);
        case 'add-node': return await this.addNode(m, c, r);
        case 'remove-node': return await this.removeNode(m, r);
        case 'subscribe-session': return await this.subscribeSession(m, c, r);
        // An ack or nack without id answers a subscribe-chat.
        case 'subscribe-ack': {
          const id = this.subscriptionId(m, el, () => this.chat.ack(m));
          return id === undefined ? this.chat.ack(m) : await this.subscribeAck(m, c, id);
        }
        case 'subscribe-nack': {
          const id = this.subscriptionId(m, el, () => this.chat.nack(m));
          return id === undefined ? this.chat.nack(m) : await this.subscribeNack(c, id);
        }
        case 'save-session': return await this.saveSession(m, r);
        case 'subscribe-chat':
          // infd_directory_handle_subscribe_chat: can-subscribe-chat on the root.
          await this.check(m, this.tree.root, 'can-subscribe-chat');
          return this.reply(m, this.chat.request(m, r.makeSeq()));
        default:
          throw unexpectedMessage(el.name);
      }
    } catch (err) {
      if (err instanceof InfError) {
        m.sendGroup(DIRECTORY_GROUP, toRequestFailed(err, seq));
        return;
      }
      // A failed system call is reported as infinoted does (G_FILE_ERROR, no path); the log has it whole.
      const file = fileError(err);
      this.o.log(`Directory error for ${m.remote}: ${file ? (err as Error).message : (err as Error).stack ?? err}`);
      m.sendGroup(DIRECTORY_GROUP, toRequestFailed(file ?? new InfError('INF_DIRECTORY_ERROR', DIR.FAILED, (err as Error).message), seq));
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private node(id: number): DirNode {
    const node = this.tree.get(id);
    if (!node) throw new Reply('INF_DIRECTORY_ERROR', DIR.NO_SUCH_NODE, 'Node does not exist');
    return node;
  }

  /**
   * The id of a subscribe-ack or -nack; none answers the server chat. An id that does not parse
   * is reported, but a pending chat request of the connection is answered first, as
   * infd_directory_get_subreq_from_xml falls back to the chat then.
   */
  private subscriptionId(m: Member, el: Element, answerChat: () => void): number | undefined {
    const raw = optionalAttr(el, 'id');
    if (raw === undefined) return undefined;
    try {
      return parseUint('id', raw);
    } catch (err) {
      if (this.chat.hasRequest(m)) answerChat();
      throw err;
    }
  }

  /** The node an attribute names (infd_directory_get_node_from_xml). */
  private nodeAt(el: Element, attr: string): DirNode {
    return this.node(uintAttr(el, attr));
  }

  /** The subdirectory an attribute names (infd_directory_get_node_from_xml_typed). */
  private subdirectoryAt(el: Element, attr: string): DirNode {
    const node = this.nodeAt(el, attr);
    if (node.type !== SUBDIRECTORY) throw new Reply('INF_DIRECTORY_ERROR', DIR.NOT_A_SUBDIRECTORY, `Node with ID "${node.id}" is not a subdirectory node`);
    return node;
  }

  /** The note an attribute names; a note without a plugin is refused as infinoted does. */
  private noteAt(el: Element, attr: string): DirNode {
    const node = this.nodeAt(el, attr);
    if (node.type === SUBDIRECTORY) throw new Reply('INF_DIRECTORY_ERROR', DIR.NOT_A_NOTE, `Node with ID "${node.id}" is not a leaf node`);
    if (!this.o.noteTypes.includes(node.type)) {
      throw new Reply('INF_DIRECTORY_ERROR', DIR.NOTE_TYPE_UNSUPPORTED, `Node with ID "${node.id}" has unsupported type "${node.type}"`);
    }
    return node;
  }

  private async loadChildren(node: DirNode): Promise<DirNode[]> {
    if (!node.children) this.tree.loadChildren(node, await this.o.storage.list(this.tree.path(node)));
    return node.children!;
  }

  private addNodeElement(node: DirNode, seq?: string, acl?: AclSheet[]): Element {
    return encodeDirectoryReply({ kind: 'add-node', id: node.id, parent: node.parent!.id, name: node.name, type: node.type, ...(seq !== undefined ? { seq } : {}), ...(acl ? { acl } : {}) });
  }

  /**
   * Puts a new node into the tree and fixes, at that moment, who is told about it: the parent's
   * explorers then (with `requester`, whose reply it is; without `except`). A client that explores
   * the parent later finds the node in its listing, so none gets it twice and none misses it,
   * whatever the caller awaits before `announce` (infinoted adds and announces in one step).
   * The requester's seq goes to every explorer, as infinoted's does (other clients ignore a seq
   * whose id is not theirs); each gets the sheets it may see.
   */
  private insertNode(parent: DirNode, name: string, type: string, who: { requester?: Member; except?: Member; id?: number } = {}):
    { node: DirNode; announce: (seq?: string) => Promise<void> } {
    const node = this.tree.add(parent, name, type, who.id);
    const to = this.explorers(parent, who.requester).filter((x) => x !== who.except);
    return {
      node,
      announce: async (seq?: string) => {
        for (const x of to) x.sendGroup(DIRECTORY_GROUP, this.addNodeElement(node, seq, await this.acl.sheetsFor(x, node)));
      },
    };
  }

  /** Everyone who explored `parent`, plus `also` (the requester always gets its reply). */
  private explorers(parent: DirNode, also?: Member): Member[] {
    const out = [...this.clients].filter(([, c]) => c.explored.has(parent)).map(([m]) => m);
    if (also && !out.includes(also)) out.push(also);
    return out;
  }

  private nameTaken(parent: DirNode, name: string): boolean {
    if (this.tree.findChild(parent, name)) return true;
    const key = nameKey(name);
    // Names of nodes still being created (add-node with subscribe, sync-in) are taken too.
    for (const c of this.clients.values()) {
      for (const p of c.pending.values()) if (p.kind !== 'subscribe' && p.parent === parent && nameKey(p.name) === key) return true;
    }
    return false;
  }

  private sessionContext(journal?: DocumentJournal) {
    return {
      seqId: (m: Member) => this.seqId(m),
      log: this.o.log,
      limits: this.limits,
      idle: (s: TextSession) => this.scheduleUnload(s),
      ...(this.o.plugins ? { hooks: this.o.plugins } : {}),
      ...(journal ? { journal } : {}),
    };
  }

  /**
   * A text session for `node` starting from `doc` (the state on disk), with its crash journal.
   * The journal needs the session's users, so it is bound once the session exists.
   */
  private newTextSession(node: { id: number }, path: readonly string[], doc: StoredTextDocument, state?: InitialState): TextSession {
    const file = this.o.journal ? this.o.storage.journalFile?.(path) : undefined;
    let session: TextSession | undefined;
    const journal = file === undefined ? undefined : new DocumentJournal(file, contentHash(doc.segments), {
      fsyncMs: this.o.journal!.fsyncMs,
      ...(this.o.journal!.compactBytes !== undefined ? { compactBytes: this.o.journal!.compactBytes } : {}),
      log: this.o.log,
      // A long journal makes recovery slow: save, which cuts it.
      tooLong: () => void this.save(node.id).catch((err: Error) => this.o.log(`Could not save session ${node.id}: ${err.message}`)),
    }, () => session?.storedUsers() ?? doc.users);
    const group = `InfSession_${node.id}`;
    session = state ? new TextSession(group, state, this.sessionContext(journal)) : TextSession.fromStored(group, doc, this.sessionContext(journal));
    if (journal) this.journals.set(node.id, journal);
    return session;
  }

  /** The session at `id` is gone from memory: its journal stops (and goes with the node). */
  private dropJournal(id: number, removed: boolean): void {
    this.journals.get(id)?.close(removed);
    this.journals.delete(id);
  }

  /** A session became loaded at `node`: plugins see it added (infinoted's session-added). */
  private plugged(node: DirNode, s: TextSession): void {
    this.o.plugins?.added(s, node.id, '/' + this.tree.path(node).join('/'));
  }

  private async loadSession(node: DirNode): Promise<TextSession> {
    const open = this.sessions.get(node.id);
    if (open) return open;
    const path = this.tree.path(node);
    const doc = await this.run(() => this.recover(path));
    const again = this.sessions.get(node.id);
    if (again) return again;
    const s = this.newTextSession(node, path, doc);
    this.sessions.set(node.id, s);
    this.plugged(node, s);
    return s;
  }

  // ---- handlers ---------------------------------------------------------------------------

  private async exploreNode(m: Member, c: ClientState, r: DirectoryCall): Promise<void> {
    const node = this.subdirectoryAt(r.el, 'id');
    await this.check(m, node, 'can-explore-node');
    const children = await this.loadChildren(node);
    if (c.explored.has(node)) throw new Reply('INF_DIRECTORY_ERROR', DIR.ALREADY_EXPLORED, 'Subdirectory has already been explored');
    const seq = r.makeSeq();
    const acls = await Promise.all(children.map((n) => this.acl.sheetsFor(m, n)));
    c.explored.add(node);
    const s = seq !== undefined ? { seq } : {};
    m.sendGroup(DIRECTORY_GROUP,
      encodeDirectoryReply({ kind: 'explore-begin', total: children.length, ...s }),
      ...children.map((n, i) => this.addNodeElement(n, seq, acls[i])),
      encodeDirectoryReply({ kind: 'explore-end', ...s }));
  }

  private async addNode(m: Member, c: ClientState, r: DirectoryCall): Promise<void> {
    // infd_directory_handle_add_node's order: parent, sheets, type, permissions, plugin, seq,
    // name, then the name's checks.
    const { el } = r;
    const parent = this.subdirectoryAt(el, 'parent');
    const aclElement = el.getChild('acl');
    const sheets = aclElement ? decodeAcl(aclElement) : [];
    const type = requireAttr(el, 'type');
    const subscribe = el.getChild('subscribe') !== undefined;
    const syncIn = el.getChild('sync-in') !== undefined;
    // infd_directory_get_add_node_permissions, checked on the parent.
    const needed: AclSetting[] = [type === SUBDIRECTORY ? 'can-add-subdirectory' : 'can-add-document'];
    if (type !== SUBDIRECTORY && subscribe) needed.push('can-subscribe-session');
    if (type !== SUBDIRECTORY && syncIn) needed.push('can-sync-in');
    if (sheets.length > 0) needed.push('can-set-acl');
    await this.check(m, parent, ...needed);
    if (type !== SUBDIRECTORY && !this.o.noteTypes.includes(type)) {
      throw new Reply('INF_DIRECTORY_ERROR', DIR.TYPE_UNKNOWN, 'Note type is not supported');
    }
    const seq = r.makeSeq();
    const name = requireAttr(el, 'name');
    const problem = nameProblem(name);
    if (problem) throw new Reply('INF_DIRECTORY_ERROR', DIR.INVALID_NAME, describeNameProblem(name, problem));
    const acl = this.acl.initialSheets(sheets);
    await this.loadChildren(parent);
    if (this.nameTaken(parent, name)) {
      throw new Reply('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${name}" exists already`);
    }
    this.checkNodeLimit();
    if (type !== SUBDIRECTORY && (subscribe || syncIn)) this.checkSubscriptionLimit(m, c);
    if (type === SUBDIRECTORY) {
      await this.run(() => this.o.storage.createSubdirectory([...this.tree.path(parent), name]));
      if (this.nameTaken(parent, name)) throw new Reply('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${name}" exists already`);
      const { node, announce } = this.insertNode(parent, name, type, { requester: m });
      node.children = [];
      await this.acl.setInitial(node, acl);
      await announce(seq);
      return;
    }
    // A note's id is taken before its file is written, as infinoted numbers its notes: a name the
    // file system refuses uses up an id all the same (a subdirectory's does not).
    const id = this.tree.allocateId();
    if (syncIn) {
      // Only text documents can be uploaded: SyncInReceiver reads InfText synchronisations.
      if (type === CHAT_NOTE) throw new Reply('INF_DIRECTORY_ERROR', DIR.NOTE_TYPE_UNSUPPORTED, 'Note type "InfChat" cannot be synchronised in');
      // Written empty before the reply, as infinoted does (a name the file system refuses is
      // refused here); a nack, a failed upload or the uploader leaving removes it again
      // (infinoted leaves it behind, an empty note from its next start on).
      await this.writeEmpty([...this.tree.path(parent), name], type);
      if (this.nameTaken(parent, name)) throw new Reply('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${name}" exists already`);
      const group = subscribe ? `InfSession_${id}` : `InfSession_SyncIn_${id}`;
      c.pending.set(id, { kind: 'sync-in', parent, id, name, type, subscribe, group, acl });
      this.reply(m, { kind: 'sync-in', id, parent: parent.id, name, type, group, method: 'central', subscribe, ...(seq !== undefined ? { seq } : {}) });
      return;
    }
    if (subscribe) {
      // Written before the reply, as infinoted does: a name the file system refuses is refused
      // here, answering the request; a nack or the creator's disconnect removes the file again.
      await this.writeEmpty([...this.tree.path(parent), name], type);
      if (this.nameTaken(parent, name)) throw new Reply('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${name}" exists already`);
      c.pending.set(id, { kind: 'add-node', parent, id, name, type, ...(seq !== undefined ? { seq } : {}), acl });
      this.reply(m, {
        kind: 'add-node', id, parent: parent.id, name, type, ...(seq !== undefined ? { seq } : {}), ...(acl.length > 0 ? { acl } : {}),
        subscribe: { group: `InfSession_${id}`, method: 'central' },
      });
      return;
    }
    // A plain new note: written empty at once (§7.6), announced to the parent's explorers.
    await this.writeEmpty([...this.tree.path(parent), name], type);
    if (this.nameTaken(parent, name)) throw new Reply('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${name}" exists already`);
    const { node, announce } = this.insertNode(parent, name, type, { requester: m, id });
    await this.acl.setInitial(node, acl);
    await announce(seq);
  }

  private async removeNode(m: Member, r: DirectoryCall): Promise<void> {
    const node = this.nodeAt(r.el, 'id');
    if (!node.parent) throw new Reply('INF_DIRECTORY_ERROR', DIR.ROOT_NODE_REMOVE_ATTEMPT, 'The root node cannot be removed');
    const parent = node.parent;
    // The remove permission is checked on the parent (infd_directory_handle_remove_node).
    await this.check(m, parent, 'can-remove-node');
    const seq = r.makeSeq();
    const path = this.tree.path(node);
    const waitingFor = (n: DirNode): number => [...this.clients.values()].reduce((k, c) => k + (c.pending.get(n.id)?.kind === 'subscribe' ? 1 : 0), 0);
    // A waiting ack subscribes to the document as it is then: a text that is not loaded is loaded
    // (its journal applied) while its file is still there.
    for (const n of this.tree.subtree(node)) if (n.type !== SUBDIRECTORY && n.type !== CHAT_NOTE && waitingFor(n) > 0) await this.loadSession(n);
    // The files go first, as in infinoted: if the file system refuses, the request fails and the
    // node, its sessions and subscribers stay as they were. From here on nothing waits until the
    // node has left the tree (a save queued meanwhile then finds no node to write).
    await this.run(() => this.o.storage.remove(path, node.type));
    // Subscribers of every session in the subtree are told first (cap 01: session-close, then
    // remove-node), unless subscriptions of the document wait for their ack (orphans, above).
    for (const n of this.tree.subtree(node)) {
      if (n.type === SUBDIRECTORY) continue;
      const waiting = n.type === CHAT_NOTE || this.sessions.has(n.id) ? waitingFor(n) : 0;
      // The files went with the node; an orphan's edits are in memory only (as infinoted's).
      this.dropJournal(n.id, true);
      this.cancelUnload(n.id);
      if (waiting === 0) this.closeSessionOf(n.id);
      else this.orphans.set(n.id, { waiting, close: () => this.closeSessionOf(n.id) });
    }
    const removed = this.tree.remove(node);
    for (const c of this.clients.values()) for (const r of removed) c.explored.delete(r);
    for (const r of removed) this.acl.forget(r);
    this.o.plugins?.nodeRemoved('/' + path.join('/'), node.type === SUBDIRECTORY);
    const reply = encodeDirectoryReply({ kind: 'remove-node', id: node.id, ...(seq !== undefined ? { seq } : {}) });
    // Only those who explored the parent hear of it: a requester that did not gets no reply, as
    // from infinoted 0.7.2 (wire fuzz seed 367388103).
    for (const x of this.explorers(parent)) x.sendGroup(DIRECTORY_GROUP, reply);
  }

  /** Closes the session of a removed document (session-close to its subscribers) and forgets it. */
  private closeSessionOf(id: number): void {
    this.chatDocs.get(id)?.close();
    this.chatDocs.delete(id);
    const s = this.sessions.get(id);
    if (!s) return;
    s.close();
    this.sessions.delete(id);
    this.o.plugins?.removed(s);
  }

  /** A subscription to the removed document `id` was answered or dropped: the last closes it. */
  private releaseOrphan(id: number): void {
    const o = this.orphans.get(id);
    if (!o || --o.waiting > 0) return;
    this.orphans.delete(id);
    o.close();
  }

  private async subscribeSession(m: Member, c: ClientState, r: DirectoryCall): Promise<void> {
    const node = this.noteAt(r.el, 'id');
    await this.check(m, node, 'can-subscribe-session');
    // Only a pending request counts (libinfinity's check); a subscribed connection gets its
    // reply, and its ack then changes nothing (infinoted: an assertion in its log).
    if (c.pending.has(node.id)) {
      throw new Reply('INF_DIRECTORY_ERROR', DIR.ALREADY_SUBSCRIBED, 'Connection is already subscribed to this session');
    }
    const seq = r.makeSeq();
    this.checkSubscriptionLimit(m, c);
    // The document is read now, as infinoted reads it before it answers: a file that cannot be
    // read fails the subscription with its error (infd_directory_node_make_session).
    if (node.type === CHAT_NOTE) await this.loadChat(node);
    else {
      const session = await this.loadSession(node);
      // Unloaded again if the subscription is never acknowledged (the ack reads it again then).
      if (session.subscriberCount === 0 && !this.idleTimers.has(node.id)) this.scheduleUnload(session);
    }
    if (this.tree.get(node.id) !== node) throw new Reply('INF_DIRECTORY_ERROR', DIR.NO_SUCH_NODE, 'Node does not exist');
    c.pending.set(node.id, { kind: 'subscribe', node });
    this.reply(m, { kind: 'subscribe-session', group: `InfSession_${node.id}`, method: 'central', id: node.id, ...(seq !== undefined ? { seq } : {}) });
  }

  /** maxNodes: the nodes in the tree and those being created (add-node with subscribe, sync-in). */
  private checkNodeLimit(): void {
    let n = this.tree.size;
    for (const c of this.clients.values()) for (const p of c.pending.values()) if (p.kind !== 'subscribe') n++;
    if (n >= this.limits.maxNodes) {
      this.o.log(`Refused a new node: the directory has ${n} nodes, the limit (max-nodes)`);
      throw overLimit(`The server holds ${n} nodes, the most it allows`);
    }
  }

  /** maxSubscriptionsPerConnection: sessions and chat documents subscribed or being subscribed. */
  private checkSubscriptionLimit(m: Member, c: ClientState): void {
    let n = c.pending.size;
    for (const s of this.sessions.values()) if (s.isSubscribed(m)) n++;
    for (const s of this.chatDocs.values()) if (s.isSubscribed(m)) n++;
    if (n >= this.limits.maxSubscriptionsPerConnection) {
      this.o.log(`Refused a subscription of ${m.remote}: it has ${n}, the limit (max-subscriptions-per-connection)`);
      throw overLimit(`This connection has ${n} subscriptions, the most the server allows`);
    }
  }

  private takePending(c: ClientState, id: number): Pending {
    const p = c.pending.get(id);
    if (!p || (p.kind === 'sync-in' && p.receiver)) {
      throw new Reply('INF_DIRECTORY_ERROR', DIR.NO_SUCH_SUBSCRIPTION_REQUEST, `No subscription request with ID ${id}`);
    }
    if (p.kind !== 'sync-in') c.pending.delete(id);
    return p;
  }

  private async subscribeAck(m: Member, c: ClientState, id: number): Promise<void> {
    const p = this.takePending(c, id);
    switch (p.kind) {
      case 'subscribe': {
        if (this.tree.get(p.node.id) !== p.node) {
          // Removed meanwhile: the session this subscription held is joined as it is now, and
          // closes once no other subscription holds it.
          if (this.orphans.has(p.node.id)) {
            if (this.clients.has(m)) (this.sessions.get(p.node.id) ?? this.chatDocs.get(p.node.id))?.subscribe(m, true);
            this.releaseOrphan(p.node.id);
          }
          return;
        }
        if (p.node.type === CHAT_NOTE) {
          const chat = await this.loadChat(p.node);
          if (this.tree.get(p.node.id) === p.node && this.clients.has(m) && !chat.isSubscribed(m)) chat.subscribe(m, true);
          return;
        }
        const session = await this.loadSession(p.node);
        if (this.tree.get(p.node.id) !== p.node || !this.clients.has(m) || session.isSubscribed(m)) return;
        this.cancelUnload(p.node.id);
        session.subscribe(m, true);
        return;
      }
      case 'add-node': {
        // The node exists from the ack on (its empty file since the add-node); the creator is
        // subscribed without a sync (§3.4).
        if (this.tree.get(p.parent.id) !== p.parent || this.tree.findChild(p.parent, p.name)) return;
        const path = [...this.tree.path(p.parent), p.name];
        const { node, announce } = this.insertNode(p.parent, p.name, p.type, { except: m, id: p.id });
        await this.acl.setInitial(node, p.acl);
        if (p.type === CHAT_NOTE) {
          const chat = this.newChat(node);
          await announce();
          if (this.clients.has(m)) chat.subscribe(m, false);
          return;
        }
        const session = this.newTextSession(node, path, { users: [], segments: [] });
        this.sessions.set(node.id, session);
        this.plugged(node, session);
        await announce();
        if (this.clients.has(m)) session.subscribe(m, false);
        else this.scheduleUnload(session);
        return;
      }
      case 'sync-in':
        p.receiver = new SyncInReceiver(this.limits, c.syncIn, p.subscribe);
        return;
    }
  }

  private async subscribeNack(c: ClientState, id: number): Promise<void> {
    const p = this.takePending(c, id);
    if (p.kind === 'subscribe') this.releaseOrphan(p.node.id);
    if (p.kind === 'sync-in') c.pending.delete(p.id);
    if (p.kind === 'add-node' || p.kind === 'sync-in') await this.removeUnacknowledged(p);
  }

  /**
   * The empty file of an add-node with subscribe whose creator declined or left before the ack,
   * or of an upload that was declined, failed or whose uploader left.
   */
  private async removeUnacknowledged(p: { parent: DirNode; name: string; type: string }): Promise<void> {
    // Gone with its directory, or the name was given to a node meanwhile: not ours to remove.
    if (this.tree.get(p.parent.id) !== p.parent || this.tree.findChild(p.parent, p.name)) return;
    const path = [...this.tree.path(p.parent), p.name];
    try {
      await this.run(() => this.o.storage.remove(path, p.type));
    } catch (err) {
      this.o.log(`Could not remove the unacknowledged new document /${path.join('/')}: ${(err as Error).message}`);
    }
  }

  private async syncInMessage(m: Member, c: ClientState, p: Extract<Pending, { kind: 'sync-in' }>, el: Element): Promise<void> {
    let step;
    try {
      step = p.receiver!.feed(el);
    } catch (err) {
      p.receiver!.release();
      c.pending.delete(p.id);
      const e = err instanceof InfError ? err : new InfError('INF_SESSION_SYNC_ERROR', ErrorCodes.INF_SESSION_SYNC_ERROR.FAILED, (err as Error).message);
      if (e.code !== ErrorCodes.INF_SESSION_SYNC_ERROR.SENDER_CANCELLED || e.domain !== 'INF_SESSION_SYNC_ERROR') m.sendGroup(p.group, toSyncError(e));
      await this.removeUnacknowledged(p);
      return;
    }
    if (!step.done) return;
    p.receiver!.release();
    c.pending.delete(p.id);
    const { state } = step;
    // The journal starts at the document as it is about to be saved.
    const session = this.newTextSession({ id: p.id }, [...this.tree.path(p.parent), p.name], { users: [], segments: state.segments }, {
      engine: state.engine,
      ids: state.ids,
      // Available users come only with uploads that subscribe: they stay joined through the uploader (§4.1).
      users: state.users.map((u) => ({ ...u, ...(u.status !== 'unavailable' ? { member: m } : {}) })),
    });
    if (this.tree.get(p.parent.id) !== p.parent || this.nameTakenExcept(p)) {
      this.dropJournal(p.id, false);
      m.sendGroup(p.group, toSyncError(new InfError('INF_DIRECTORY_ERROR', DIR.NODE_EXISTS, `A node with name "${p.name}" exists already`)));
      return;
    }
    const { node, announce } = this.insertNode(p.parent, p.name, p.type, { except: m, id: p.id });
    this.sessions.set(node.id, session);
    this.plugged(node, session);
    m.sendGroup(p.group, encodeSignal('sync-ack'));
    await this.save(node.id);
    await this.acl.setInitial(node, p.acl);
    await announce();
    if (p.subscribe && this.clients.has(m)) session.subscribe(m, false);
    else this.scheduleUnload(session);
  }

  private nameTakenExcept(p: { parent: DirNode; name: string }): boolean {
    return this.tree.findChild(p.parent, p.name) !== undefined;
  }

  private async saveSession(m: Member, r: DirectoryCall): Promise<void> {
    // infinoted 0.7.2 dereferences NULL when the id names no note (protocol.md 10.9); tandemd
    // answers as the lookup that should have been there.
    const node = this.noteAt(r.el, 'id');
    const s = this.sessions.get(node.id) ?? this.chatDocs.get(node.id);
    if (!s || !s.isSubscribed(m)) throw new Reply('INF_DIRECTORY_ERROR', DIR.UNSUBSCRIBED, 'The requesting connection is not subscribed to the session');
    // A chat document has no content to save (protocol.md 7.3).
    if (s instanceof TextSession) await this.save(node.id);
    const seq = r.makeSeq();
    // libinfinity clients expect "saved-session" (infc-browser.c); infinoted 0.7.2 sends
    // "session-saved", which they reject (quirk 10.1). We send what the clients understand.
    this.reply(m, { kind: 'session-saved', name: 'saved-session', ...(seq !== undefined ? { seq } : {}) });
  }

  // ---- persistence ------------------------------------------------------------------------

  /** A new note's file: an empty text document, or `<inf-chat-session/>` for a chat. */
  private writeEmpty(path: readonly string[], type: string): Promise<void> {
    return this.run(() => (type === CHAT_NOTE ? this.o.storage.writeChat(path) : this.o.storage.writeText(path, { users: [], segments: [] })));
  }

  private newChat(node: DirNode): ChatSession {
    const chat = new ChatSession(`InfSession_${node.id}`, { seqId: (m) => this.seqId(m), log: (line) => this.o.log(line), maxUsers: () => this.limits.maxUsersPerSession });
    this.chatDocs.set(node.id, chat);
    return chat;
  }

  /** A stored chat document is checked when first subscribed; it starts with an empty backlog. */
  private async loadChat(node: DirNode): Promise<ChatSession> {
    const open = this.chatDocs.get(node.id);
    if (open) return open;
    await this.run(() => this.o.storage.readChat(this.tree.path(node)));
    return this.chatDocs.get(node.id) ?? this.newChat(node);
  }

  private async save(id: number): Promise<void> {
    const node = this.tree.get(id);
    const s = this.sessions.get(id);
    if (!node || !s) return;
    const doc = s.toStored();
    const path = this.tree.path(node);
    s.modified = false;
    // The journal marks where this save begins; once the file is written, what precedes goes.
    const journal = this.journals.get(id);
    const checkpoint = journal?.checkpoint(doc);
    await this.run(async () => {
      // A failed write leaves the document modified, so that the next save tries again.
      if (this.tree.get(id) === node) await this.o.storage.writeText(path, doc).catch((err: unknown) => { s.modified = true; throw err; });
    });
    if (checkpoint !== undefined && this.journals.get(id) === journal) journal!.saved(checkpoint);
    this.o.plugins?.saved(s);
  }

  /**
   * Reads a text document and applies what its crash journal holds beyond it; a recovered document
   * is written back at once and its journal removed (storage/journal.ts).
   */
  private async recover(path: readonly string[]): Promise<StoredTextDocument> {
    const doc = await this.o.storage.readText(path);
    const file = this.o.storage.journalFile?.(path);
    if (file === undefined) return doc;
    const r = recoverFromJournal(file, doc);
    if (!r) return doc;
    const where = '/' + path.join('/');
    if (r.orphaned) {
      this.o.log(`Journal of ${where} does not match the stored document (changed outside tandemd?); kept as ${r.orphaned}, not applied`);
      return doc;
    }
    await this.o.storage.writeText(path, r.doc);
    removeJournal(file);
    this.o.log(`Recovered ${r.applied} change(s) of ${where} from its journal`);
    return r.doc;
  }

  /** Writes a loaded session to storage now (for plugins: autosave). */
  saveNode(id: number): Promise<void> {
    return this.save(id);
  }

  private scheduleUnload(s: TextSession): void {
    const id = Number(s.group.slice('InfSession_'.length));
    // An orphan's end is its last waiting subscription, not idleness.
    if (this.orphans.has(id)) return;
    this.cancelUnload(id);
    const t = setTimeout(() => {
      this.idleTimers.delete(id);
      if (this.sessions.get(id) !== s || s.subscriberCount > 0) return;
      void this.save(id).then(() => {
        if (this.sessions.get(id) !== s || s.subscriberCount !== 0) return;
        this.sessions.delete(id);
        this.dropJournal(id, false);
        this.o.plugins?.removed(s);
      }, (err: Error) => this.o.log(`Could not save session ${id}: ${err.message}`));
    }, this.o.idleUnloadMs);
    t.unref();
    this.idleTimers.set(id, t);
  }

  private cancelUnload(id: number): void {
    const t = this.idleTimers.get(id);
    if (t) clearTimeout(t);
    this.idleTimers.delete(id);
  }

  /**
   * Saves every loaded session (shutdown): each one even when another fails, every failure
   * logged; then throws SaveAllError if any failed.
   */
  async saveAll(): Promise<void> {
    const failures: { path: string; error: Error }[] = [];
    for (const id of [...this.sessions.keys()]) {
      const node = this.tree.get(id);
      try {
        await this.save(id);
      } catch (err) {
        const path = node ? '/' + this.tree.path(node).join('/') : `session ${id}`;
        const error = err instanceof Error ? err : new Error(String(err));
        this.o.log(`Could not save ${path}: ${error.message}`);
        failures.push({ path, error });
      }
    }
    if (failures.length > 0) throw new SaveAllError(failures);
  }

  /** Shutdown: session-close to every subscriber, timers off. */
  closeAll(): void {
    this.chat.session.close();
    for (const s of this.chatDocs.values()) s.close();
    for (const s of this.sessions.values()) {
      s.close();
      this.o.plugins?.removed(s);
    }
    for (const id of [...this.journals.keys()]) this.dropJournal(id, false);
    for (const id of [...this.idleTimers.keys()]) this.cancelUnload(id);
  }

  /** For tests and tools: the text of a loaded session. */
  sessionText(id: number): string | undefined {
    return this.sessions.get(id)?.text();
  }
}

/**
 * infinoted lists its note plugins in GHashTable order, which for the two it has puts InfChat
 * before InfText (capture 10); sorting by name gives the same order.
 */
function sortedNoteTypes(types: readonly string[]): string[] {
  return [...types].sort();
}
