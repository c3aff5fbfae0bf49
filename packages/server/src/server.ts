/**
 * createServer({ storage, auth, ... }): the transport-independent server. `handle(duplex)` takes
 * any byte stream (a TCP or TLS socket, an in-memory pair); transports live in transport/*.
 */
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { type AuthPolicy, anonymous } from './auth.js';
import { Connection, type TransportInfo } from './connection/connection.js';
import { type ServerLimits, ThrottledLog, defaultServerLimits, isLoopback, normalizeAddress } from './limits.js';
import type { SecurityPolicy as TlsPolicy } from '@tandem/protocol';
import { Directory } from './directory/directory.js';
import { AclService } from './acl/acl-service.js';
import { AccountStore } from './accounts/account-store.js';
import { type CertificateAuth, createSuperUser } from './accounts/certificate-auth.js';
import type { Storage } from './storage/types.js';
import { SessionBridge } from './plugins/bridge.js';
import { PluginHost } from './plugins/host.js';
import type { Plugin } from './plugins/types.js';

export interface ServerOptions {
  storage: Storage;
  /** Default: ANONYMOUS. */
  auth?: AuthPolicy;
  /** Default require-tls, like infinoted; transports without TLS never offer STARTTLS. */
  securityPolicy?: TlsPolicy;
  /** `from` of our stream header; default the machine's host name (g_get_host_name). */
  hostName?: string;
  /** Note types served; default ['InfText'] (the note-text plugin). */
  noteTypes?: string[];
  /** Idle sessions are saved and unloaded after this long; default 60 s (infinoted). */
  idleUnloadMs?: number;
  /**
   * The crash journal of text documents where the storage supports it (storage/journal.ts):
   * fdatasync interval in ms (0: after every edit), or false for none. Default: 1000 ms.
   */
  journal?: { fsyncMs: number; compactBytes?: number } | false;
  /** Hard limits (limits.ts, docs/server.md "Limits"); each defaults to defaultServerLimits. */
  limits?: Partial<ServerLimits>;
  log?: (line: string) => void;
  /** Plugins (plugins/registry.ts builds infinoted's from configuration); default none. */
  plugins?: readonly Plugin[];
  /** certificate-auth (accounts/certificate-auth.ts loadCertificateAuth): client-certificate login, account creation. */
  certificateAuth?: CertificateAuth;
}

export interface TandemServer {
  /** Serves one connection over any duplex byte stream. */
  handle(stream: Duplex, transport?: TransportInfo): Connection;
  /** Number of open connections. */
  readonly connectionCount: number;
  /**
   * Writes every loaded session to storage, each even when another fails; rejects afterwards with
   * a SaveAllError listing the documents that could not be saved.
   */
  saveAll(): Promise<void>;
  /** Saves everything, closes sessions and connections; rejects (SaveAllError) if a save failed. */
  close(): Promise<void>;
  /** The text of a loaded session, by node id (for tests and tools). */
  sessionText(id: number): string | undefined;
  /** Replaces the plugins (configuration reload); returns the errors of plugins that failed to start. */
  setPlugins(plugins: readonly Plugin[]): Promise<string[]>;
  /**
   * Authentication and security policy for connections opened from now on (reload). Limits apply
   * at once, except the XML limits of connections already open.
   */
  reconfigure(o: { auth?: AuthPolicy; securityPolicy?: TlsPolicy; limits?: Partial<ServerLimits> }): void;
}

export async function createServer(o: ServerOptions): Promise<TandemServer> {
  const log = o.log ?? (() => undefined);
  // One object for the server's lifetime: the directory and connections read it when they check,
  // so a reload that changes a limit reaches them.
  const limits: ServerLimits = { ...defaultServerLimits, ...o.limits };
  const host = new PluginHost({
    log: (level, line) => log(level === 'info' ? line : `${level.toUpperCase()}: ${line}`),
    saveSession: (id) => directory.saveNode(id),
  });
  const accounts = new AccountStore(o.storage);
  const acl = new AclService({ storage: o.storage, accounts, ...(o.certificateAuth ? { ca: o.certificateAuth.ca } : {}) });
  const directory: Directory = new Directory({
    acl,
    plugins: new SessionBridge(host),
    storage: o.storage,
    noteTypes: o.noteTypes ?? ['InfText'],
    idleUnloadMs: o.idleUnloadMs ?? 60_000,
    limits,
    ...(o.journal === false ? {} : { journal: o.journal ?? { fsyncMs: 1000 } }),
    log,
  });
  await directory.init();
  if (o.certificateAuth?.superUser !== undefined) {
    await createSuperUser(o.certificateAuth, acl, o.certificateAuth.superUser);
    log(`Super-user credentials written to ${o.certificateAuth.superUser}`);
  }
  const pluginErrors = await host.load(o.plugins ?? []);
  if (pluginErrors.length > 0) throw new Error(pluginErrors.join('\n'));
  const connections = new Set<Connection>();
  let options = {
    hostName: o.hostName ?? (hostname() || 'localhost'),
    policy: o.securityPolicy ?? 'require-tls',
    auth: o.auth ?? anonymous(),
    limits,
    log,
  } as const;
  let closing = false;
  /** Open connections by remote address (normalised), for maxConnectionsPerAddress. */
  const perAddress = new Map<string, number>();
  const refusals = new ThrottledLog(log);

  /** Why a new connection from `address` must be refused, or undefined. */
  const admission = (address: string | undefined): string | undefined => {
    if (connections.size >= limits.maxConnections) return `${connections.size} connections are open, the limit (max-connections)`;
    if (address === undefined || isLoopback(address)) return undefined;
    const n = perAddress.get(normalizeAddress(address)) ?? 0;
    return n >= limits.maxConnectionsPerAddress ? `${n} connections from this address are open, the limit (max-connections-per-address)` : undefined;
  };

  return {
    handle(stream, transport = {}) {
      const refused = closing ? undefined : admission(transport.address);
      const conn = new Connection(stream, transport, options);
      if (closing || refused !== undefined) {
        // Refused before anything is read or sent: the transport is closed at once.
        if (refused !== undefined) refusals.write(`Refused connection from ${conn.remote}: ${refused}`);
        conn.destroy();
        return conn;
      }
      connections.add(conn);
      const address = transport.address === undefined ? undefined : normalizeAddress(transport.address);
      if (address !== undefined) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      conn.on('open', () => {
        // A verified client certificate logs into the account that lists it (certificate-auth).
        const cert = conn.peerCertificate;
        directory.addClient(conn, cert ? accounts.loginByCertificate(cert) : undefined);
      });
      conn.on('open', () => host.connectionAdded(conn));
      conn.on('failure', (message) => host.connectionError(conn, message));
      // Serialising received traffic costs; only when a plugin reads it (traffic-logging).
      if (host.wants('traffic')) conn.on('traffic', (direction, xml) => host.traffic(conn, direction, xml));
      conn.on('group', (name, messages) => {
        for (const message of messages) conn.answerBeforeEnd(directory.handleGroup(conn, name, message));
      });
      conn.on('closed', () => {
        connections.delete(conn);
        if (address !== undefined) {
          const n = (perAddress.get(address) ?? 1) - 1;
          if (n > 0) perAddress.set(address, n);
          else perAddress.delete(address);
        }
        directory.removeClient(conn);
        host.connectionRemoved(conn);
      });
      return conn;
    },
    get connectionCount() {
      return connections.size;
    },
    saveAll: () => directory.saveAll(),
    async close() {
      if (closing) return;
      closing = true;
      // Everything is closed even when a document could not be saved; the failure is reported last.
      let failed: unknown;
      await directory.saveAll().catch((err: unknown) => {
        failed = err;
      });
      directory.closeAll();
      await host.unload();
      for (const c of [...connections]) {
        c.end();
        c.destroy();
      }
      if (failed !== undefined) throw failed;
    },
    sessionText: (id) => directory.sessionText(id),
    setPlugins: (plugins) => host.load(plugins),
    reconfigure(r) {
      options = { ...options, ...(r.auth ? { auth: r.auth } : {}), ...(r.securityPolicy ? { policy: r.securityPolicy } : {}) };
      if (r.limits) Object.assign(limits, r.limits);
    },
  };
}
