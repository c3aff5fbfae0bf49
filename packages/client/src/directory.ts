// The client side of the directory protocol (group InfDirectory, protocol.md §3), following
// libinfinity's infc-browser.c: one seq counter per connection, replies recognised by the
// "SEQID/N" prefix, a local mirror of the explored part of the node tree kept current by
// add-node / remove-node notifications.
import { EventEmitter } from 'node:events';
import { ClientError, RequestFailedError, deferred, withTimeout, type Deferred } from './errors.js';
import type { Connection } from './net/connection.js';
import { Element, readText } from './net/xml.js';

export const DIRECTORY_GROUP = 'InfDirectory';

export type NodeType = 'InfSubdirectory' | 'InfText' | 'InfChat' | (string & {});

/** A node of the server's directory. */
export interface DirectoryNode {
  readonly id: number;
  readonly parent: number | null;
  readonly name: string;
  readonly type: NodeType;
  /** Full path; directories end in "/" (the root is "/"). */
  readonly path: string;
  readonly isDirectory: boolean;
}

interface TreeNode {
  id: number;
  parent: number | null;
  name: string;
  type: NodeType;
  /** Children by id once explored, else undefined. */
  children: Map<number, TreeNode> | undefined;
}

interface Pending {
  /** Whether `el` ends the exchange (the reply, or the last message of a multi-message reply). */
  done(el: Element): boolean;
  messages: Element[];
  result: Deferred<Element[]>;
  /** The directory an explore-node exchange lists. */
  exploring?: number;
}

export interface DirectoryEvents {
  'node-added': [node: DirectoryNode];
  'node-removed': [node: DirectoryNode];
}

function attrNumber(el: Element, name: string): number {
  const raw = el.attrs[name];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) {
    throw new ClientError('PROTOCOL', `<${el.name}> has no valid "${name}" attribute`);
  }
  return Number(raw);
}

function attrString(el: Element, name: string): string {
  const raw = el.attrs[name];
  if (typeof raw !== 'string') throw new ClientError('PROTOCOL', `<${el.name}> has no "${name}" attribute`);
  return raw;
}

/** Turns a <request-failed> element into an error (protocol.md §2.5). */
export function requestFailed(el: Element, context: string): RequestFailedError {
  const code = Number(el.attrs.code);
  const domain = typeof el.attrs.domain === 'string' ? el.attrs.domain : 'UNKNOWN';
  return new RequestFailedError(domain, Number.isInteger(code) ? code : -1, `${context}: ${readText(el) || `${domain} ${code}`}`);
}

/** Splits "/a/b/" into ["a", "b"]. Paths are absolute; a missing leading "/" is tolerated. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0);
}

export class Directory extends EventEmitter<DirectoryEvents> {
  private readonly nodes = new Map<number, TreeNode>();
  private readonly pending = new Map<number, Pending>();
  private readonly welcome = deferred<void>();
  private nextSeq = 0;
  /** Explores in flight, so that two lookups do not explore the same directory twice. */
  private readonly exploring = new Map<number, Promise<Element[]>>();
  private sequenceId: string | undefined;
  /** Note types the server supports (from the welcome). */
  noteTypes: string[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly timeoutMs: number,
  ) {
    super();
    this.nodes.set(0, { id: 0, parent: null, name: '', type: 'InfSubdirectory', children: undefined });
  }

  /** Resolves once the welcome arrived (protocol.md §3.1). */
  ready(): Promise<void> {
    return withTimeout(this.welcome.promise, this.timeoutMs, 'the server welcome');
  }

  /** Fails every outstanding request, e.g. when the connection is lost. */
  abort(err: Error): void {
    this.welcome.reject(err);
    for (const p of this.pending.values()) p.result.reject(err);
    this.pending.clear();
  }

  /** Entry point for every message of group InfDirectory. */
  handle(el: Element): void {
    try {
      this.process(el);
    } catch (err) {
      // A malformed notification must not bring the client down; a malformed reply fails its request.
      const seq = this.ownSeq(el);
      const p = seq === undefined ? undefined : this.pending.get(seq);
      if (p) {
        this.pending.delete(seq!);
        p.result.reject(err as Error);
      }
    }
  }

  private process(el: Element): void {
    if (el.name === 'welcome') {
      const version = String(el.attrs['protocol-version'] ?? '');
      // infc_browser_handle_welcome: only the major version must match ours (1).
      if (!/^1\.\d+$/.test(version)) {
        this.welcome.reject(new ClientError('PROTOCOL', `the server speaks protocol version "${version}", tandem speaks 1.x`));
        return;
      }
      this.sequenceId = attrString(el, 'sequence-id');
      this.noteTypes = (el.getChild('note-plugins')?.getChildren('note-plugin') ?? []).map((p) => String(p.attrs.type));
      this.welcome.resolve();
      return;
    }
    if (el.name === 'add-node') this.added(el);
    else if (el.name === 'remove-node') this.removed(attrNumber(el, 'id'));
    else if (el.name === 'explore-end') {
      const id = this.pendingFor(el)?.exploring;
      const node = id === undefined ? undefined : this.nodes.get(id);
      if (node && !node.children) node.children = new Map();
    }
    const seq = this.ownSeq(el);
    if (seq === undefined) return;
    const p = this.pending.get(seq);
    if (!p) return;
    p.messages.push(el);
    if (el.name === 'request-failed') {
      this.pending.delete(seq);
      p.result.reject(requestFailed(el, 'the server refused the request'));
    } else if (p.done(el)) {
      this.pending.delete(seq);
      p.result.resolve(p.messages);
    }
  }

  private pendingFor(el: Element): Pending | undefined {
    const seq = this.ownSeq(el);
    return seq === undefined ? undefined : this.pending.get(seq);
  }

  /** The N of a "SEQID/N" seq attribute when SEQID is this connection's, else undefined. */
  private ownSeq(el: Element): number | undefined {
    const seq = el.attrs.seq;
    if (typeof seq !== 'string' || this.sequenceId === undefined) return undefined;
    const slash = seq.indexOf('/');
    if (slash < 0 || seq.slice(0, slash) !== this.sequenceId) return undefined;
    const n = Number(seq.slice(slash + 1));
    return Number.isInteger(n) ? n : undefined;
  }

  private added(el: Element): void {
    const id = attrNumber(el, 'id');
    const parentId = attrNumber(el, 'parent');
    const parent = this.nodes.get(parentId);
    const node: TreeNode = { id, parent: parentId, name: attrString(el, 'name'), type: attrString(el, 'type'), children: undefined };
    // Children arrive while exploring (before explore-end marks the parent explored): keep them.
    if (!parent) return;
    if (!parent.children) {
      // Not explored yet: only the children listed by our own explore of that parent count.
      if (this.pendingFor(el)?.exploring !== parentId) return;
      parent.children = new Map();
    }
    if (parent.children.has(id)) return;
    parent.children.set(id, node);
    this.nodes.set(id, node);
    this.emit('node-added', this.info(node));
  }

  private removed(id: number): void {
    const node = this.nodes.get(id);
    if (!node) return;
    const info = this.info(node);
    const drop = (n: TreeNode): void => {
      this.nodes.delete(n.id);
      for (const c of n.children?.values() ?? []) drop(c);
    };
    drop(node);
    if (node.parent !== null) this.nodes.get(node.parent)?.children?.delete(id);
    this.emit('node-removed', info);
  }

  private info(node: TreeNode): DirectoryNode {
    const isDirectory = node.type === 'InfSubdirectory';
    let path = isDirectory ? '/' : '';
    for (let n: TreeNode | undefined = node; n && n.id !== 0; n = n.parent === null ? undefined : this.nodes.get(n.parent)) {
      path = '/' + n.name + path;
    }
    if (node.id === 0) path = '/';
    return { id: node.id, parent: node.parent, name: node.name, type: node.type, path, isDirectory };
  }

  /**
   * Sends a directory request with the next seq and collects its reply messages until `done`.
   * A <request-failed> with the same seq rejects.
   */
  request(message: Element, done: (el: Element) => boolean, what: string, exploring?: number): Promise<Element[]> {
    const seq = this.nextSeq++;
    message.attrs = { seq: String(seq), ...message.attrs };
    const p: Pending = { done, messages: [], result: deferred<Element[]>(), exploring };
    this.pending.set(seq, p);
    this.conn.send(DIRECTORY_GROUP, message);
    return withTimeout(p.result.promise, this.timeoutMs, what).finally(() => this.pending.delete(seq));
  }

  /** This connection's sequence id from the welcome (the SEQID of "SEQID/N" replies). */
  get sequenceIdentifier(): string | undefined {
    return this.sequenceId;
  }

  /** `<subscribe-ack id="N"/>` accepting a subscription (§3.6). */
  ackElement(id: number): Element {
    return new Element('subscribe-ack', { id: String(id) });
  }

  /** Sends a message that gets no reply (subscribe-ack/-nack). */
  notify(message: Element): void {
    this.conn.send(DIRECTORY_GROUP, message);
  }

  /** Lists a directory's children, exploring it first if needed (explore-node, §3.3). */
  async explore(id: number): Promise<DirectoryNode[]> {
    const node = this.nodes.get(id);
    if (!node) throw new ClientError('NOT_FOUND', `node ${id} is not known`);
    if (node.type !== 'InfSubdirectory') throw new ClientError('NOT_FOUND', `${this.info(node).path} is not a directory`);
    let inFlight = this.exploring.get(id);
    if (!node.children || inFlight) {
      if (!inFlight) {
        inFlight = this.request(
          new Element('explore-node', { id: String(id) }),
          (el) => el.name === 'explore-end',
          `the listing of ${this.info(node).path}`,
          id,
        ).finally(() => this.exploring.delete(id));
        this.exploring.set(id, inFlight);
      }
      await inFlight;
      if (!node.children) node.children = new Map();
    }
    return [...node.children!.values()].map((c) => this.info(c));
  }

  /** Waits until the server has processed everything sent before: a directory round trip. The
   * server handles a connection's messages in order, so once this reply arrives every session
   * request sent earlier has been executed and relayed to the other subscribers. */
  async barrier(): Promise<void> {
    const root = this.nodes.get(0)!;
    if (!root.children) {
      await this.explore(0);
      return;
    }
    // Exploring an explored node is refused with INF_DIRECTORY_ERROR 12 and our seq: a no-op round trip.
    try {
      await this.request(new Element('explore-node', { id: '0' }), () => true, 'the server to catch up');
    } catch (err) {
      if (!(err instanceof RequestFailedError)) throw err;
    }
  }

  /** The node at `path`, exploring directories on the way. */
  async lookup(path: string): Promise<DirectoryNode> {
    let node = this.nodes.get(0)!;
    let walked = '';
    for (const part of splitPath(path)) {
      if (node.type !== 'InfSubdirectory') throw new ClientError('NOT_FOUND', `${walked || '/'} is not a directory`);
      await this.explore(node.id);
      const children = [...node.children!.values()];
      // The server compares names case-insensitively (protocol.md §3.2); prefer the exact name.
      const child =
        children.find((c) => c.name === part) ?? children.find((c) => c.name.toLowerCase() === part.toLowerCase());
      walked += '/' + part;
      if (!child) throw new ClientError('NOT_FOUND', `no such document or directory: ${walked}`);
      node = child;
    }
    return this.info(node);
  }

  /** Lookup that returns undefined instead of NOT_FOUND. */
  async find(path: string): Promise<DirectoryNode | undefined> {
    try {
      return await this.lookup(path);
    } catch (err) {
      if (err instanceof ClientError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Adds a node (add-node, §3.4); with `subscribe` the reply carries the session group. */
  async add(
    path: string,
    type: NodeType,
    options: { subscribe?: boolean } = {},
  ): Promise<{ node: DirectoryNode; group: string | undefined }> {
    const parts = splitPath(path);
    if (parts.length === 0) throw new ClientError('REQUEST_FAILED', 'the root directory exists already');
    const name = parts[parts.length - 1];
    const parent = await this.lookup('/' + parts.slice(0, -1).join('/'));
    if (!parent.isDirectory) throw new ClientError('NOT_FOUND', `${parent.path} is not a directory`);
    // A client must explore a directory before adding to it (protocol.md §3.2).
    await this.explore(parent.id);
    const request = new Element('add-node', { parent: String(parent.id), type, name });
    if (options.subscribe) request.c('subscribe').up();
    let reply: Element[];
    try {
      reply = await this.request(request, (el) => el.name === 'add-node', `the creation of ${path}`);
    } catch (err) {
      if (err instanceof RequestFailedError) {
        throw new RequestFailedError(err.domain, err.infCode, `cannot create ${path}: ${err.message.replace(/^[^:]*: /, '')}`);
      }
      throw err;
    }
    const el = reply[reply.length - 1];
    const node = this.nodes.get(attrNumber(el, 'id'));
    const group = el.getChild('subscribe')?.attrs.group;
    const info = node
      ? this.info(node)
      : { id: attrNumber(el, 'id'), parent: parent.id, name, type, path: parent.path + name + (type === 'InfSubdirectory' ? '/' : ''), isDirectory: type === 'InfSubdirectory' };
    return { node: info, group: typeof group === 'string' ? group : undefined };
  }

  /** Removes a node and its subtree (remove-node, §3.5). */
  async remove(path: string): Promise<void> {
    const node = await this.lookup(path);
    if (node.id === 0) throw new ClientError('REQUEST_FAILED', 'the root directory cannot be removed');
    try {
      await this.request(new Element('remove-node', { id: String(node.id) }), (el) => el.name === 'remove-node', `the removal of ${path}`);
    } catch (err) {
      if (err instanceof RequestFailedError) {
        throw new RequestFailedError(err.domain, err.infCode, `cannot remove ${path}: ${err.message.replace(/^[^:]*: /, '')}`);
      }
      throw err;
    }
  }

  /** subscribe-session (§3.6): returns the session group; the caller acks once it listens to it. */
  async subscribeSession(node: DirectoryNode): Promise<string> {
    if (node.isDirectory) throw new ClientError('NOT_FOUND', `${node.path} is a directory, not a document`);
    const reply = await this.request(
      new Element('subscribe-session', { id: String(node.id) }),
      (el) => el.name === 'subscribe-session',
      `the subscription to ${node.path}`,
    );
    return attrString(reply[reply.length - 1], 'group');
  }

  /** subscribe-chat (§3.9): returns the chat group. */
  async subscribeChat(): Promise<string> {
    const reply = await this.request(new Element('subscribe-chat'), (el) => el.name === 'subscribe-chat', 'the chat subscription');
    return attrString(reply[reply.length - 1], 'group');
  }
}
