// Starts the real infinoted 0.7 (Debian package) on 127.0.0.1 with a private root directory,
// config search path and HOME, so nothing from the machine's own configuration leaks in.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { INFINOTED, OPENSSL, requireRealLibinfinity } from './prerequisites.js';
import { stopProcess, track } from './processes.js';
import type { ServerOptions, ServerUnderTest } from './server.js';

export interface InfinotedServer extends ServerUnderTest {
  readonly kind: 'infinoted';
  readonly certFile: string;
  readonly keyFile: string;
}

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A temp directory removed when the test process exits (so restarts can reuse it until then). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

let keyPair: { keyFile: string; certFile: string } | undefined;

/** One self-signed RSA key + certificate (CN=localhost) per test process. */
export function testCertificate(): { keyFile: string; certFile: string } {
  if (keyPair) return keyPair;
  const dir = tempDir('tandem-cert-');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const r = spawnSync(OPENSSL, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '30', '-subj', '/CN=localhost',
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error?.message}`);
  keyPair = { keyFile, certFile };
  return keyPair;
}

const READY = /Server running on port (\d+)/;

/** Starts infinoted and resolves once it logged that it listens. */
export async function startInfinoted(options: ServerOptions): Promise<InfinotedServer> {
  requireRealLibinfinity();
  const port = options.port ?? (await freePort());
  const home = tempDir('tandem-infinoted-home-');
  const root = options.root ?? join(home, 'root');
  mkdirSync(root, { recursive: true });
  const { keyFile, certFile } = testCertificate();
  const plugins = ['note-text', ...(options.plugins ?? []).filter((p) => p !== 'note-text')];
  const args = [
    `--listen-address=127.0.0.1`,
    `--port=${port}`,
    `--security-policy=${options.securityPolicy}`,
    `--root-directory=${root}`,
    `--key-file=${keyFile}`,
    `--certificate-file=${certFile}`,
    ...plugins.map((p) => `--plugins=${p}`),
    ...(options.password !== undefined ? [`--password=${options.password}`] : []),
    ...(options.extraArgs ?? []),
  ];
  // Private XDG dirs: infinoted reads the first infinoted.conf it finds there (protocol.md 9.1).
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CONFIG_DIRS: join(home, 'config-dirs'),
    LC_ALL: 'C.UTF-8',
  };
  const child = spawn(INFINOTED, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  let exited: string | null = null;
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.once('exit', (code, sig) => {
    exited = `infinoted exited (code ${code}, signal ${sig}) before listening:\n${out}`;
  });
  child.once('error', (e) => {
    exited = `could not run ${INFINOTED}: ${e.message}`;
  });

  const deadline = Date.now() + 30000; // DH parameter generation can take a while
  for (;;) {
    const m = READY.exec(out);
    if (m && Number(m[1]) === port) break;
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`infinoted did not report listening on port ${port} within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  let stopping: Promise<void> | undefined;
  return {
    kind: 'infinoted',
    host: '127.0.0.1',
    port,
    root,
    securityPolicy: options.securityPolicy,
    ...(options.password !== undefined ? { password: options.password } : {}),
    certFile,
    keyFile,
    output: () => out,
    // SIGTERM makes infinoted save every loaded session before exiting (protocol.md 7.6).
    stop: () => (stopping ??= stopProcess(child, 5000)),
  };
}
