/**
 * createServer({ storage, auth, ... }): the transport-independent server. `handle(duplex)` takes
 * any byte stream (a TCP or TLS socket, an in-memory pair); transports live in transport/*.
 */
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { type AuthPolicy, anonymous } from './auth.js';
import { Connection, type ConnectionLimits, type TransportInfo, defaultConnectionLimits } from './connection/connection.js';
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
  limits?: Partial<ConnectionLimits>;
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
  /** Writes every loaded session to storage. */
  saveAll(): Promise<void>;
  /** Saves everything, closes sessions and connections. */
  close(): Promise<void>;
  /** The text of a loaded session, by node id (for tests and tools). */
  sessionText(id: number): string | undefined;
  /** Replaces the plugins (configuration reload); returns the errors of plugins that failed to start. */
  setPlugins(plugins: readonly Plugin[]): Promise<string[]>;
  /** Authentication and security policy for connections opened from now on (reload). */
  reconfigure(o: { auth?: AuthPolicy; securityPolicy?: TlsPolicy }): void;
}

export async function createServer(o: ServerOptions): Promise<TandemServer> {
  const log = o.log ?? (() => undefined);
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
    limits: { ...defaultConnectionLimits, ...o.limits },
    log,
  } as const;
  let closing = false;

  return {
    handle(stream, transport = {}) {
      const conn = new Connection(stream, transport, options);
      if (closing) {
        conn.destroy();
        return conn;
      }
      connections.add(conn);
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
        for (const message of messages) directory.handleGroup(conn, name, message);
      });
      conn.on('closed', () => {
        connections.delete(conn);
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
      await directory.saveAll();
      directory.closeAll();
      await host.unload();
      for (const c of [...connections]) {
        c.end();
        c.destroy();
      }
    },
    sessionText: (id) => directory.sessionText(id),
    setPlugins: (plugins) => host.load(plugins),
    reconfigure(r) {
      options = { ...options, ...(r.auth ? { auth: r.auth } : {}), ...(r.securityPolicy ? { policy: r.securityPolicy } : {}) };
    },
  };
}
