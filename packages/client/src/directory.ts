// The client side of the directory protocol (group InfDirectory, protocol.md §3), following
// libinfinity's infc-browser.c: one seq counter per connection, replies recognised by the
// "SEQID/N" prefix, a local mirror of the explored part of the node tree kept current by
// add-node / remove-node notifications.
import { Emitter } from './emitter.js';
import {
  decodeDirectoryReply, encodeDirectoryRequest, parseReplySeq,
  type DirectoryReply, type DirectoryRequest, type Element, type InfError,
} from '@tandem/protocol';
import { ClientError, RequestFailedError, deferred, withTimeout, type Deferred } from './errors.js';
import type { Connection } from './net/connection.js';

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

/** A request without its seq: the directory numbers requests itself. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'seq'> : never;

interface Pending {
  /** Whether `reply` ends the exchange (the reply, or the last message of a multi-message reply). */
  done(reply: DirectoryReply): boolean;
  messages: DirectoryReply[];
  result: Deferred<DirectoryReply[]>;
  /** The directory an explore-node exchange lists. */
  exploring?: number;
}

export interface DirectoryEvents {
  'node-added': [node: DirectoryNode];
  'node-removed': [node: DirectoryNode];
}

/** A <request-failed> reply as an error (protocol.md §2.5). */
export function requestFailed(error: InfError, context: string): RequestFailedError {
  return new RequestFailedError(error.domain, error.code, `${context}: ${error.message || `${error.domain} ${error.code}`}`);
}

/** Splits "/a/b/" into ["a", "b"]. Paths are absolute; a missing leading "/" is tolerated. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0);
}

export class Directory extends Emitter<DirectoryEvents> {
  private readonly nodes = new Map<number, TreeNode>();
  private readonly pending = new Map<number, Pending>();
  private readonly welcome = deferred<void>();
  private nextSeq = 0;
  /** Explores in flight, so that two lookups do not explore the same directory twice. */
  private readonly exploring = new Map<number, Promise<DirectoryReply[]>>();
  private sequenceId: number | undefined;
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
    let reply: DirectoryReply;
    try {
      reply = decodeDirectoryReply(el);
    } catch (err) {
      // A malformed notification (or one we do not know) must not bring the client down; a
      // malformed reply fails its request (infc-browser.c logs and drops what it cannot read).
      const seq = typeof el.attrs.seq === 'string' ? this.ownSeq(el.attrs.seq) : undefined;
      const p = seq === undefined ? undefined : this.pending.get(seq);
      if (p) {
        this.pending.delete(seq!);
        p.result.reject(new ClientError('PROTOCOL', `the server sent a malformed <${el.name}>: ${(err as Error).message}`));
      }
      return;
    }
    this.process(reply);
  }

  private process(reply: DirectoryReply): void {
    switch (reply.kind) {
      case 'welcome':
        // infc_browser_handle_welcome: only the major version must match ours (1).
        if (!/^1\.\d+$/.test(reply.protocolVersion)) {
          this.welcome.reject(new ClientError('PROTOCOL', `the server speaks protocol version "${reply.protocolVersion}", tandem speaks 1.x`));
          return;
        }
        this.sequenceId = reply.sequenceId;
        this.noteTypes = reply.notePlugins;
        this.welcome.resolve();
        return;
      case 'add-node':
        this.added(reply);
        break;
      case 'remove-node':
        this.removed(reply.id);
        break;
      case 'explore-end': {
        const id = this.pendingFor(reply)?.exploring;
        const node = id === undefined ? undefined : this.nodes.get(id);
        if (node && !node.children) node.children = new Map();
        break;
      }
    }
    const seq = 'seq' in reply && reply.seq !== undefined ? this.ownSeq(reply.seq) : undefined;
    if (seq === undefined) return;
    const p = this.pending.get(seq);
    if (!p) return;
    p.messages.push(reply);
    if (reply.kind === 'request-failed') {
      this.pending.delete(seq);
      p.result.reject(requestFailed(reply.error, 'the server refused the request'));
    } else if (p.done(reply)) {
      this.pending.delete(seq);
      p.result.resolve(p.messages);
    }
  }

  private pendingFor(reply: DirectoryReply): Pending | undefined {
    const seq = 'seq' in reply && reply.seq !== undefined ? this.ownSeq(reply.seq) : undefined;
    return seq === undefined ? undefined : this.pending.get(seq);
  }

  /** The N of a "SEQID/N" seq when SEQID is this connection's (protocol.md §2.4), else undefined. */
  private ownSeq(seq: string): number | undefined {
    const parsed = parseReplySeq(seq);
    return parsed && this.sequenceId !== undefined && parsed.seqId === this.sequenceId ? parsed.n : undefined;
  }

  private added(reply: Extract<DirectoryReply, { kind: 'add-node' }>): void {
    const { id, parent: parentId, name, type } = reply;
    const parent = this.nodes.get(parentId);
    const node: TreeNode = { id, parent: parentId, name, type, children: undefined };
    // Children arrive while exploring (before explore-end marks the parent explored): keep them.
    if (!parent) return;
    if (!parent.children) {
      // Not explored yet: only the children listed by our own explore of that parent count.
      if (this.pendingFor(reply)?.exploring !== parentId) return;
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
  request(
    message: Unnumbered<DirectoryRequest>,
    done: (reply: DirectoryReply) => boolean,
    what: string,
    exploring?: number,
  ): Promise<DirectoryReply[]> {
    const seq = this.nextSeq++;
    const p: Pending = { done, messages: [], result: deferred<DirectoryReply[]>(), exploring };
    this.pending.set(seq, p);
    this.conn.send(DIRECTORY_GROUP, encodeDirectoryRequest({ ...message, seq } as DirectoryRequest));
    return withTimeout(p.result.promise, this.timeoutMs, what).finally(() => this.pending.delete(seq));
  }

  /** This connection's sequence id from the welcome (the SEQID of "SEQID/N" replies). */
  get sequenceIdentifier(): number | undefined {
    return this.sequenceId;
  }

  /** Accepts a subscription (subscribe-ack, §3.6): with the node id for a session, without for the chat. */
  acknowledge(id?: number): void {
    this.conn.send(DIRECTORY_GROUP, encodeDirectoryRequest(id === undefined ? { kind: 'subscribe-ack' } : { kind: 'subscribe-ack', id }));
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
          { kind: 'explore-node', id },
          (reply) => reply.kind === 'explore-end',
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
      await this.request({ kind: 'explore-node', id: 0 }, () => true, 'the server to catch up');
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
    let replies: DirectoryReply[];
    try {
      replies = await this.request(
        { kind: 'add-node', parent: parent.id, type, name, subscribe: options.subscribe === true, syncIn: false },
        (reply) => reply.kind === 'add-node',
        `the creation of ${path}`,
      );
    } catch (err) {
      if (err instanceof RequestFailedError) {
        throw new RequestFailedError(err.domain, err.infCode, `cannot create ${path}: ${err.message.replace(/^[^:]*: /, '')}`);
      }
      throw err;
    }
    const reply = lastOf(replies, 'add-node');
    const node = this.nodes.get(reply.id);
    const info = node
      ? this.info(node)
      : { id: reply.id, parent: parent.id, name, type, path: parent.path + name + (type === 'InfSubdirectory' ? '/' : ''), isDirectory: type === 'InfSubdirectory' };
    return { node: info, group: reply.subscribe?.group };
  }

  /** Removes a node and its subtree (remove-node, §3.5). */
  async remove(path: string): Promise<void> {
    const node = await this.lookup(path);
    if (node.id === 0) throw new ClientError('REQUEST_FAILED', 'the root directory cannot be removed');
    try {
      await this.request({ kind: 'remove-node', id: node.id }, (reply) => reply.kind === 'remove-node', `the removal of ${path}`);
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
    const replies = await this.request(
      { kind: 'subscribe-session', id: node.id },
      (reply) => reply.kind === 'subscribe-session',
      `the subscription to ${node.path}`,
    );
    return lastOf(replies, 'subscribe-session').group;
  }

  /** subscribe-chat (§3.9): returns the chat group. */
  async subscribeChat(): Promise<string> {
    const replies = await this.request({ kind: 'subscribe-chat' }, (reply) => reply.kind === 'subscribe-chat', 'the chat subscription');
    return lastOf(replies, 'subscribe-chat').group;
  }
}

/** The message that ended an exchange, checked to be of the kind the request waited for. */
function lastOf<K extends DirectoryReply['kind']>(replies: DirectoryReply[], kind: K): Extract<DirectoryReply, { kind: K }> {
  const last = replies[replies.length - 1];
  if (!last || last.kind !== kind) throw new ClientError('PROTOCOL', `expected <${kind}> from the server`);
  return last as Extract<DirectoryReply, { kind: K }>;
}
