/**
 * startTandemd(): the built tandemd bin as a child process, in the harness's ServerUnderTest
 * shape, so the interop scenarios run against tandemd exactly as against infinoted.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopProcess, tempDir, testCertificate, track, type ServerOptions, type ServerUnderTest } from './harness/index.js';

/** test/dist/interop -> repository root */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built bin; TANDEM_TANDEMD names another build (e.g. a deliberately broken copy, to check that a test fails). */
export const TANDEMD = process.env.TANDEM_TANDEMD ?? join(REPO, 'packages', 'server', 'dist', 'src', 'cli', 'tandemd.js');

const READY = /Server running on port (\d+)/;

export interface TandemdUnderTest extends ServerUnderTest {
  readonly kind: 'tandemd';
  readonly home: string;
  /** Sends a signal to the tandemd process (SIGHUP reloads its configuration). */
  signal(sig: NodeJS.Signals): void;
  /**
   * Waits until tandemd's output (stdout and stderr) contains `text`, and returns the output.
   * The lines tandemd prints after "Server running" may come in a later chunk of the pipe.
   */
  waitForOutput(text: string, ms?: number): Promise<string>;
  /** How the process ended ("code 0, signal null"), or null while it runs. */
  exitStatus(): string | null;
}

export async function startTandemd(options: ServerOptions & { home?: string; noKeyFiles?: boolean }): Promise<TandemdUnderTest> {
  const port = options.port ?? (await freePort());
  const home = options.home ?? tempDir('tandem-tandemd-home-');
  const root = options.root ?? join(home, 'root');
  mkdirSync(root, { recursive: true });
  const cert = options.noKeyFiles ? undefined : testCertificate();
  const args = [
    TANDEMD,
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    `--security-policy=${options.securityPolicy}`,
    `--root-directory=${root}`,
    ...(cert ? [`--key-file=${cert.keyFile}`, `--certificate-file=${cert.certFile}`] : []),
    ...(options.plugins ?? []).map((p) => `--plugins=${p}`),
    ...(options.password !== undefined ? [`--password=${options.password}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CONFIG_DIRS: join(home, 'config-dirs'),
    XDG_DATA_HOME: join(home, 'data'),
  };
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  let exited: string | null = null;
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exitStatus: string | null = null;
  child.once('exit', (code, sig) => {
    exitStatus = `code ${code}, signal ${sig}`;
    exited = `tandemd exited (${exitStatus}) before listening:\n${out}`;
  });
  const deadline = Date.now() + 30000;
  for (;;) {
    const m = READY.exec(out);
    if (m && Number(m[1]) === port) break;
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`tandemd did not report listening on port ${port} within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  let stopping: Promise<void> | undefined;
  return {
    kind: 'tandemd',
    host: '127.0.0.1',
    port,
    root,
    home,
    securityPolicy: options.securityPolicy,
    ...(options.password !== undefined ? { password: options.password } : {}),
    output: () => out,
    signal: (sig) => void child.kill(sig),
    async waitForOutput(text, ms = 10000) {
      const until = Date.now() + ms;
      while (!out.includes(text)) {
        if (exitStatus !== null || Date.now() > until) {
          throw new Error(`tandemd did not print ${JSON.stringify(text)} within ${ms / 1000} s (${exitStatus === null ? 'still running' : `exited, ${exitStatus}`}); its output:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      return out;
    },
    exitStatus: () => exitStatus,
    // SIGTERM: tandemd saves every loaded session, then exits.
    stop: () => (stopping ??= stopProcess(child, 10000)),
  };
}
