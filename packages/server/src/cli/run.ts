/**
 * Starting tandemd from resolved options: storage, credentials, auth, server, listener, signals.
 * Separate from the bin so tests can start the real thing in-process.
 */
import { appendFileSync } from 'node:fs';
import { type AuthPolicy, anonymous, plain } from '../auth.js';
import type { TandemdOptions } from '../config/options.js';
import { type TandemServer, createServer } from '../server.js';
import { FilesystemStorage } from '../storage/filesystem.js';
import { type TlsCredentials, loadCredentials } from '../tls/credentials.js';
import { SERVER_PLUGINS, UNSUPPORTED_PLUGINS, buildPlugins, certificateAuthOptions, unknownPluginError } from '../plugins/registry.js';
import { type CertificateAuth, loadCertificateAuth } from '../accounts/certificate-auth.js';
import type { Plugin } from '../plugins/types.js';
import { restartOnlyChanges } from './reload.js';
import { type TcpListener, listenTcp } from '../transport/tcp.js';
import { type WebSocketListener, listenWebSocket } from '../transport/ws.js';
import { type WebEditor, createWebEditor } from '../transport/web-editor.js';

/** Plugins tandemd implements itself, and the note types they bring. */
const PLUGIN_NOTE_TYPES: Record<string, string[]> = { 'note-text': ['InfText'], 'note-chat': ['InfChat'] };
/** Plugins that configure the server and its TLS listener at start (not PluginHooks objects). */
const START_PLUGINS: readonly string[] = ['certificate-auth'];

export interface RunningDaemon {
  server: TandemServer;
  listener: TcpListener;
  /** With --ws-port: the WebSocket listener (wss:// when TLS credentials are loaded). */
  wsListener?: WebSocketListener;
  credentials?: TlsCredentials;
  /**
   * Saves every session and stops listening; rejects (SaveAllError) when a document could not be
   * saved, after everything has stopped and every other document was saved.
   */
  stop(): Promise<void>;
  /**
   * Applies re-read options (SIGHUP): plugins and their parameters, password, security policy
   * for new connections, limits, log file. Returns what could not be applied (needs a restart, errors).
   */
  reload(next: TandemdOptions): Promise<string[]>;
}

export interface StartOptions {
  /** Where the default key/certificate live (default: $XDG_DATA_HOME/tandem). */
  dataDirectory?: string;
  out?: (line: string) => void;
}

export async function startDaemon(o: TandemdOptions, s: StartOptions = {}): Promise<RunningDaemon> {
  const out = s.out ?? ((line: string) => console.log(line));
  // The log file can change on reload.
  let logFile = o.logFile;
  const log = (line: string): void => {
    const stamped = `[${new Date().toISOString()}] ${line}`;
    out(stamped);
    if (logFile) {
      try {
        appendFileSync(logFile, stamped + '\n');
      } catch (err) {
        out(`Could not write to log file "${logFile}": ${(err as Error).message}`);
      }
    }
  };
  const noteTypesOf = (x: TandemdOptions): string[] => x.plugins.flatMap((p) => PLUGIN_NOTE_TYPES[p] ?? []);
  const noteTypes = noteTypesOf(o);
  /**
   * Server plugins from the options; an unknown plugin name or a bad plugin parameter is an error
   * (as in infinoted), an infinoted plugin that tandemd does not provide is only reported.
   */
  const pluginsOf = (x: TandemdOptions): Plugin[] => {
    for (const p of x.plugins) {
      if (PLUGIN_NOTE_TYPES[p] || SERVER_PLUGINS.includes(p) || START_PLUGINS.includes(p)) continue;
      const why = UNSUPPORTED_PLUGINS[p];
      if (why === undefined) {
        throw unknownPluginError(p, [...Object.keys(PLUGIN_NOTE_TYPES), ...SERVER_PLUGINS, ...START_PLUGINS, ...Object.keys(UNSUPPORTED_PLUGINS)]);
      }
      log(`Plugin "${p}" is not supported by tandemd and is not loaded: ${why}`);
    }
    const built = buildPlugins(x.plugins, x.config, { rootDirectory: x.rootDirectory });
    const named = [...x.plugins.filter((p) => PLUGIN_NOTE_TYPES[p]), ...new Set(x.plugins.filter((p) => START_PLUGINS.includes(p))), ...built.map((p) => p.name)];
    log(`Plugins: ${named.join(', ')}`);
    return built;
  };
  const plugins = pluginsOf(o);

  let credentials: TlsCredentials | undefined;
  if (o.securityPolicy !== 'no-tls') {
    credentials = await loadCredentials({
      ...(o.keyFile !== undefined ? { keyFile: o.keyFile } : {}),
      ...(o.certificateFile !== undefined ? { certificateFile: o.certificateFile } : {}),
      ...(o.certificateChain !== undefined ? { certificateChain: o.certificateChain } : {}),
      createKey: o.createKey,
      createCertificate: o.createCertificate,
      ...(s.dataDirectory !== undefined ? { dataDirectory: s.dataDirectory } : {}),
    });
    if (credentials.created) log(`Created a self-signed certificate: ${credentials.certificateFile} (key ${credentials.keyFile})`);
    log(`Certificate fingerprint SHA-256: ${credentials.fingerprintSha256}`);
    log(`Certificate fingerprint SHA-1:   ${credentials.fingerprintSha1}`);
  } else if (o.password !== undefined) {
    log('WARNING: a password is set but TLS is off: passwords travel in clear text');
  }

  // certificate-auth (infinoted_plugin_certificate_auth_initialize): needs the server's TLS
  // credentials; a bad parameter, an unreadable CA list or a key of no listed CA stop the start.
  const certOptions = certificateAuthOptions(o.plugins, o.config);
  let certificateAuth: CertificateAuth | undefined;
  if (certOptions) {
    if (!credentials) throw new Error('The certificate-auth plugin can only be used when TLS is enabled and a server certificate has been set.');
    certificateAuth = await loadCertificateAuth(certOptions, log);
    log(`certificate-auth: ${certificateAuth.ca.caList.length} CA certificate(s) from ${certOptions.caList}; clients without a certificate are ${certificateAuth.acceptUnauthenticatedClients ? 'accepted' : 'refused'}`);
    // Browsers cannot present client certificates over our wss://: refusing them all is the
    // only behaviour consistent with a server that requires certificates.
    if (o.wsPort !== undefined && !certificateAuth.acceptUnauthenticatedClients) {
      throw new Error('--ws-port needs certificate-auth:accept-unauthenticated-clients=true: WebSocket clients cannot present client certificates');
    }
  }

  const authOf = (x: TandemdOptions): AuthPolicy => (x.password !== undefined ? plain({ password: x.password }) : anonymous());
  const auth = authOf(o);
  const storage = new FilesystemStorage(o.rootDirectory);
  await storage.ensureRoot();
  const server = await createServer({ storage, auth, securityPolicy: o.securityPolicy, noteTypes, log, plugins, journal: o.journal, limits: o.limits, ...(certificateAuth ? { certificateAuth } : {}) });
  let listener: TcpListener;
  try {
    listener = await listenTcp(server, {
      port: o.port,
      ...(o.listenAddress !== undefined ? { host: o.listenAddress } : {}),
      ...(credentials ? {
        tls: {
          key: credentials.key, cert: credentials.cert,
          ...(certificateAuth ? { clientCa: certificateAuth.ca.caList, acceptUnauthenticated: certificateAuth.acceptUnauthenticatedClients } : {}),
        },
      } : {}),
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  let current = o;
  let wsListener: WebSocketListener | undefined;
  let webEditor: WebEditor | undefined;
  if (o.wsPort !== undefined) {
    // The page is a convenience: packages it cannot find (an install without @tandem/client)
    // leave the WebSocket port working, with the reason in the log.
    if (o.webEditor) {
      try {
        webEditor = createWebEditor();
      } catch (err) {
        log(`Web editor not available: ${(err as Error).message}`);
      }
    }
    // Browsers cannot STARTTLS: with TLS credentials the WebSocket port speaks wss:// instead.
    try {
      wsListener = await listenWebSocket(server, {
        port: o.wsPort,
        ...(o.listenAddress !== undefined ? { host: o.listenAddress } : {}),
        ...(credentials ? { tls: { key: credentials.key, cert: credentials.cert } } : {}),
        ...(webEditor ? { webEditor } : {}),
      });
    } catch (err) {
      await listener.close();
      await server.close();
      throw err;
    }
  }
  const family = listener.address.family === 'IPv6' ? 'IPv6' : 'IPv4';
  log(`${family} Server running on port ${listener.address.port} (root directory ${o.rootDirectory}, ${o.securityPolicy})`);
  if (wsListener) log(`WebSocket server running on port ${wsListener.address.port} (${wsListener.secure ? 'wss' : 'ws'}://)`);
  if (wsListener && webEditor) log(`Web editor on ${wsListener.secure ? 'https' : 'http'}://HOST:${wsListener.address.port}/ (?doc=/PATH&user=NAME)`);
  return {
    server, listener, ...(wsListener ? { wsListener } : {}), ...(credentials ? { credentials } : {}),
    async stop() {
      await wsListener?.close();
      await listener.close();
      await server.close();
    },
    async reload(next) {
      const problems = restartOnlyChanges(current, next, noteTypesOf);
      let certChanged: boolean;
      try {
        certChanged = JSON.stringify(certificateAuthOptions(current.plugins, current.config)) !== JSON.stringify(certificateAuthOptions(next.plugins, next.config));
      } catch (err) {
        certChanged = true;
        problems.push(`certificate-auth: ${(err as Error).message}`);
      }
      if (certChanged) problems.push('certificate-auth changed: it takes effect after a restart');
      logFile = next.logFile;
      let built: Plugin[] | undefined;
      try {
        built = pluginsOf(next);
      } catch (err) {
        problems.push(`Plugins not reloaded: ${(err as Error).message}`);
      }
      if (built) problems.push(...await server.setPlugins(built));
      const tlsLater = current.securityPolicy === 'no-tls' && next.securityPolicy !== 'no-tls';
      server.reconfigure({ auth: authOf(next), limits: next.limits, ...(tlsLater ? {} : { securityPolicy: next.securityPolicy }) });
      current = next;
      return problems;
    },
  };
}
