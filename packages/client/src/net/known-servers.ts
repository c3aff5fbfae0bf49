// Trust on first use for server certificates, like ssh's known_hosts: infinoted servers run
// with self-signed certificates, so instead of CA verification the client pins the SHA-256
// fingerprint of the certificate it saw first for each host:port and refuses a different one.
//
// The index exports this module, so it must also load in a browser (which pins nothing: it
// checks wss:// certificates itself): the files (node:fs, lowdb) are loaded in open(), and the
// path helpers only where Node runs.
import type { JSONFilePreset } from 'lowdb/node';

const node = typeof process !== 'undefined' && typeof process.versions?.node === 'string'
  ? { os: await import('node:os'), path: await import('node:path') }
  : undefined;

interface PinnedServer {
  fingerprint: string;
  firstSeen: string;
}

interface KnownServersData {
  servers: Record<string, PinnedServer>;
}

/** The outcome of checking a certificate against the pins. */
export type PinCheck =
  | { status: 'new' }
  | { status: 'match' }
  | { status: 'changed'; pinned: string };

/** Raised when a server offers a certificate other than the pinned one. */
export class CertificateChangedError extends Error {
  readonly code = 'CERTIFICATE_CHANGED';
  constructor(
    readonly server: string,
    readonly pinned: string,
    readonly offered: string,
    readonly file: string,
  ) {
    super(
      `the certificate of ${server} has changed (pinned ${pinned}, offered ${offered}): ` +
        `someone could be intercepting the connection; if the server's certificate was replaced on purpose, ` +
        `remove "${server}" from ${file} or connect with --insecure`,
    );
    this.name = 'CertificateChangedError';
  }
}

/** The directory for tandem's configuration: $XDG_CONFIG_HOME/tandem or ~/.config/tandem. */
export function configDirectory(env?: NodeJS.ProcessEnv): string {
  if (!node) throw new Error('configDirectory needs Node (a browser has no configuration directory)');
  env ??= process.env;
  const { join } = node.path;
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(node.os.homedir(), '.config');
  return join(base, 'tandem');
}

/** Formats a DER certificate digest as "SHA256:aa:bb:..." (the form `openssl x509 -fingerprint` prints). */
export function formatFingerprint(sha256Hex: string): string {
  return 'SHA256:' + (sha256Hex.match(/../g) ?? []).join(':').toUpperCase();
}

/** The pin store, a small JSON file (lowdb) in the configuration directory. */
export class KnownServers {
  private constructor(
    readonly file: string,
    private readonly db: Awaited<ReturnType<typeof JSONFilePreset<KnownServersData>>>,
  ) {}

  static async open(directory: string = configDirectory()): Promise<KnownServers> {
    const [{ mkdir }, { join }, { JSONFilePreset }] = await Promise.all([import('node:fs/promises'), import('node:path'), import('lowdb/node')]);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const file = join(directory, 'known-servers.json');
    const db = await JSONFilePreset<KnownServersData>(file, { servers: {} });
    if (typeof db.data !== 'object' || db.data === null || typeof db.data.servers !== 'object') {
      db.data = { servers: {} };
    }
    return new KnownServers(file, db);
  }

  static key(host: string, port: number): string {
    return `${host.toLowerCase()}:${port}`;
  }

  check(host: string, port: number, fingerprint: string): PinCheck {
    const pin = this.db.data.servers[KnownServers.key(host, port)];
    if (!pin) return { status: 'new' };
    return pin.fingerprint === fingerprint ? { status: 'match' } : { status: 'changed', pinned: pin.fingerprint };
  }

  async pin(host: string, port: number, fingerprint: string): Promise<void> {
    this.db.data.servers[KnownServers.key(host, port)] = { fingerprint, firstSeen: new Date().toISOString() };
    await this.db.write();
  }

  /**
   * Accepts a certificate seen for the first time (pinning it) or the pinned one; throws
   * CertificateChangedError for any other.
   */
  async verify(host: string, port: number, fingerprint: string): Promise<'new' | 'match'> {
    const result = this.check(host, port, fingerprint);
    if (result.status === 'changed') {
      throw new CertificateChangedError(KnownServers.key(host, port), result.pinned, fingerprint, this.file);
    }
    if (result.status === 'new') await this.pin(host, port, fingerprint);
    return result.status;
  }
}
