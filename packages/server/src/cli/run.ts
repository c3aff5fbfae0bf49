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
import { type TcpListener, listenTcp } from '../transport/tcp.js';

/** Plugins tandemd implements itself, and the note types they bring. */
const PLUGIN_NOTE_TYPES: Record<string, string[]> = { 'note-text': ['InfText'] };

export interface RunningDaemon {
  server: TandemServer;
  listener: TcpListener;
  credentials?: TlsCredentials;
  /** Saves every session and stops listening. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Where the default key/certificate live (default: $XDG_DATA_HOME/tandem). */
  dataDirectory?: string;
  out?: (line: string) => void;
}

export async function startDaemon(o: TandemdOptions, s: StartOptions = {}): Promise<RunningDaemon> {
  const out = s.out ?? ((line: string) => console.log(line));
  const log = (line: string): void => {
    const stamped = `[${new Date().toISOString()}] ${line}`;
    out(stamped);
    if (o.logFile) {
      try {
        appendFileSync(o.logFile, stamped + '\n');
      } catch (err) {
        out(`Could not write to log file "${o.logFile}": ${(err as Error).message}`);
      }
    }
  };
  const noteTypes: string[] = [];
  for (const p of o.plugins) {
    const types = PLUGIN_NOTE_TYPES[p];
    if (types) noteTypes.push(...types);
    else log(`Plugin "${p}" is not supported by tandemd and is not loaded`);
  }

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

  const auth: AuthPolicy = o.password !== undefined ? plain({ password: o.password }) : anonymous();
  const storage = new FilesystemStorage(o.rootDirectory);
  await storage.ensureRoot();
  const server = await createServer({ storage, auth, securityPolicy: o.securityPolicy, noteTypes, log });
  let listener: TcpListener;
  try {
    listener = await listenTcp(server, {
      port: o.port,
      ...(o.listenAddress !== undefined ? { host: o.listenAddress } : {}),
      ...(credentials ? { tls: { key: credentials.key, cert: credentials.cert } } : {}),
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  const family = listener.address.family === 'IPv6' ? 'IPv6' : 'IPv4';
  log(`${family} Server running on port ${listener.address.port} (root directory ${o.rootDirectory}, ${o.securityPolicy})`);
  return {
    server, listener, ...(credentials ? { credentials } : {}),
    async stop() {
      await listener.close();
      await server.close();
    },
  };
}
