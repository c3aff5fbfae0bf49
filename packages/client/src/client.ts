// The headless client: one connection, its directory, and the sessions opened through it.
import { Emitter } from './emitter.js';
import { ChatSession } from './chat.js';
import { DIRECTORY_GROUP, Directory, type DirectoryNode } from './directory.js';
import { ClientError } from './errors.js';
import { Connection, type ConnectOptions } from './net/connection.js';
import type { Element } from '@tandem/protocol';
import { SessionProxy } from './session.js';
import { TextDocument } from './text-document.js';

export interface ClientOptions extends ConnectOptions {}

export interface OpenOptions {
  /** Join as this user (omit to only watch). */
  user?: string;
  /** The user's colour, 0..1 (default: derived from the name). */
  hue?: number;
  /** Create the document if it does not exist. */
  create?: boolean;
  /** If the name is taken by someone present, join as "name 2", "name 3"... (as Gobby does). */
  retryName?: boolean;
}

export interface ClientEvents {
  'node-added': [node: DirectoryNode];
  'node-removed': [node: DirectoryNode];
  /** The connection ended; `error` says why unless close() was called. */
  close: [error?: Error];
}

type GroupHandler = (el: Element) => void;

export class TandemClient extends Emitter<ClientEvents> {
  private readonly groups = new Map<string, GroupHandler>();
  private readonly sessions = new Set<{ close(reason: Error | undefined): void }>();

  private constructor(
    private readonly conn: Connection,
    private readonly directory: Directory,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  /** Connects, authenticates and waits for the directory's welcome. */
  static async connect(options: ClientOptions = {}): Promise<TandemClient> {
    const timeoutMs = options.timeoutMs ?? 30000;
    const conn = await Connection.open(options);
    const directory = new Directory(conn, timeoutMs);
    const client = new TandemClient(conn, directory, timeoutMs);
    client.groups.set(DIRECTORY_GROUP, (el) => directory.handle(el));
    conn.on('message', (group, el) => client.groups.get(group)?.(el));
    conn.on('close', (error) => {
      const reason = error ?? new ClientError('CLOSED', 'the connection was closed');
      directory.abort(reason);
      for (const s of client.sessions) s.close(reason);
      client.emit('close', error);
    });
    directory.on('node-added', (n) => client.emit('node-added', n));
    directory.on('node-removed', (n) => client.emit('node-removed', n));
    conn.resume();
    try {
      await directory.ready();
    } catch (err) {
      await conn.close();
      throw err;
    }
    return client;
  }

  /** Whether TLS protects the connection, and the server certificate's fingerprint. */
  get security(): { tls: boolean; fingerprint: string | undefined } {
    return { tls: this.conn.secure, fingerprint: this.conn.fingerprint };
  }

  /** The node at `path` ("/" is the root); rejects with code NOT_FOUND. */
  lookup(path: string): Promise<DirectoryNode> {
    return this.directory.lookup(path);
  }

  /** The children of the directory at `path`. */
  async browse(path = '/'): Promise<DirectoryNode[]> {
    const node = await this.directory.lookup(path);
    if (!node.isDirectory) throw new ClientError('NOT_FOUND', `${node.path} is not a directory`);
    return this.directory.explore(node.id);
  }

  /** Creates a directory; with `parents`, missing parents too and no error if it exists. */
  async mkdir(path: string, options: { parents?: boolean } = {}): Promise<DirectoryNode> {
    if (!options.parents) return (await this.directory.add(path, 'InfSubdirectory')).node;
    let node = await this.directory.lookup('/');
    for (const part of path.split('/').filter((p) => p)) {
      const next = await this.directory.find(node.path + part);
      if (next && !next.isDirectory) throw new ClientError('REQUEST_FAILED', `${next.path} exists and is not a directory`);
      node = next ?? (await this.directory.add(node.path + part, 'InfSubdirectory')).node;
    }
    return node;
  }

  /** Creates an empty text document. */
  async create(path: string): Promise<DirectoryNode> {
    return (await this.directory.add(path, 'InfText')).node;
  }

  /** Removes a document or a directory with everything in it. */
  remove(path: string): Promise<void> {
    return this.directory.remove(path);
  }

  /**
   * Opens a text document: subscribes (receiving its full state), and joins as `options.user` if
   * given. With `create`, a missing document is created (and subscribed in the same request).
   */
  async open(path: string, options: OpenOptions = {}): Promise<TextDocument> {
    let node = await this.directory.find(path);
    let proxy: SessionProxy;
    if (!node && options.create) {
      // add-node with <subscribe/>: the new, empty session needs no synchronisation (§3.4).
      const { node: created, group } = await this.directory.add(path, 'InfText', { subscribe: true });
      if (!group) throw new ClientError('PROTOCOL', `the server created ${path} without a subscription`);
      node = created;
      proxy = this.attachSession(group, false);
      this.directory.acknowledge(created.id);
    } else {
      if (!node) throw new ClientError('NOT_FOUND', `no such document: ${path}`);
      if (node.isDirectory) throw new ClientError('NOT_FOUND', `${node.path} is a directory, not a document`);
      if (node.type !== 'InfText') throw new ClientError('REQUEST_FAILED', `${node.path} is a ${node.type} document, not text`);
      const group = await this.directory.subscribeSession(node);
      proxy = this.attachSession(group, true);
      this.directory.acknowledge(node.id);
    }
    try {
      await proxy.ready();
    } catch (err) {
      proxy.leave();
      throw err;
    }
    const doc = new TextDocument(node.path, proxy, () => this.detach(proxy));
    if (options.user !== undefined) {
      try {
        await doc.join(options.user, { hue: options.hue, retry: options.retryName });
      } catch (err) {
        doc.close();
        throw err;
      }
    }
    return doc;
  }

  /** Subscribes to the server-wide chat (and joins it as `user` if given). */
  async chat(user?: string): Promise<ChatSession> {
    const group = await this.directory.subscribeChat();
    const chat = new ChatSession(this.conn, group, () => this.directory.sequenceIdentifier, this.timeoutMs);
    this.groups.set(group, (el) => chat.handle(el));
    this.sessions.add(chat);
    chat.on('closed', () => {
      this.groups.delete(group);
      this.sessions.delete(chat);
    });
    this.directory.acknowledge();
    await chat.ready();
    if (user !== undefined) await chat.joinAs(user);
    return chat;
  }

  /** Resolves once the server has processed everything this client sent so far. */
  flush(): Promise<void> {
    return this.directory.barrier();
  }

  /** Leaves every session and closes the connection in an orderly way. */
  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.close(undefined);
    await this.conn.close();
  }

  private attachSession(group: string, expectSync: boolean): SessionProxy {
    const proxy = new SessionProxy(
      this.conn,
      group,
      () => this.directory.sequenceIdentifier,
      this.timeoutMs,
      () => this.directory.barrier(),
      expectSync,
    );
    this.groups.set(group, (el) => proxy.handle(el));
    this.sessions.add(proxy);
    proxy.on('closed', () => this.detach(proxy));
    return proxy;
  }

  private detach(proxy: SessionProxy): void {
    if (this.groups.get(proxy.group)) this.groups.delete(proxy.group);
    this.sessions.delete(proxy);
  }
}

/** Connects to a server: `const client = await connect({ host, port, user })`. */
export function connect(options: ClientOptions = {}): Promise<TandemClient> {
  return TandemClient.connect(options);
}
