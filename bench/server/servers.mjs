// Starts the two servers under test as child processes with the same settings: plain TCP on
// 127.0.0.1, a fresh empty root directory, no password. Both are measured through /proc.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, memoryMiB, sleep } from './stats.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const INFINOTED = process.env.INFINOTED ?? '/usr/bin/infinoted';
export const SERVERS = ['tandemd', 'infinoted'];

// Servers must not outlive an interrupted benchmark.
const running = new Set();
/** Kills every running server (also used by a scenario's hard timeout). */
export const killServers = () => { for (const c of running) c.kill('SIGKILL'); };
const killAll = killServers;
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { killAll(); process.exit(130); });

/** The command line each server runs with (printed in the report). */
export function commandLine(kind, port, root) {
  return kind === 'tandemd'
    ? ['node', 'packages/server/bin/tandemd.js', '--security-policy=no-tls', '-p', String(port), '-r', root, '--listen-address=127.0.0.1']
    : [INFINOTED, '--security-policy=no-tls', '-p', String(port), '-r', root, '--listen-address=127.0.0.1'];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

/**
 * Starts `kind` and resolves once it accepts connections and its start-up work has settled (at
 * most `settleMs`). `profileDir` runs tandemd under `node --cpu-prof` (the profile is written
 * when it exits).
 */
export async function startServer(kind, { profileDir, settleMs = 20000 } = {}) {
  const home = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const root = join(home, 'root');
  mkdirSync(root);
  const port = await freePort();
  const [cmd, ...args] = commandLine(kind, port, root);
  if (kind === 'tandemd' && profileDir) args.unshift('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  // TANDEMD_NODE_ARGS adds options to node's command line for tandemd (e.g. "--trace-gc").
  if (kind === 'tandemd' && process.env.TANDEMD_NODE_ARGS) args.unshift(...process.env.TANDEMD_NODE_ARGS.split(/\s+/).filter(Boolean));
  // TANDEMD_ARGS adds options to tandemd's command line (e.g. "--relay-batch=0" to compare).
  if (kind === 'tandemd' && process.env.TANDEMD_ARGS) args.push(...process.env.TANDEMD_ARGS.split(/\s+/).filter(Boolean));
  // A private HOME and XDG dirs: infinoted would otherwise read the machine's infinoted.conf.
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_CONFIG_DIRS: join(home, 'xdg'), LC_ALL: 'C.UTF-8' };
  // TANDEMD_CHECKOUT runs the tandemd of another built checkout (e.g. the commit before a fix).
  const cwd = kind === 'tandemd' && process.env.TANDEMD_CHECKOUT ? process.env.TANDEMD_CHECKOUT : repo;
  const child = spawn(cmd === 'node' ? process.execPath : cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (b) => { output = (output + b.toString()).slice(-20000); };
  child.stdout.on('data', keep);
  child.stderr.on("data", keep);
  if (process.env.BENCH_SERVER_STDERR) child.stderr.on("data", (b) => appendFileSync(process.env.BENCH_SERVER_STDERR, b));
  if (process.env.BENCH_SERVER_STDOUT) child.stdout.on("data", (b) => appendFileSync(process.env.BENCH_SERVER_STDOUT, b));
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, sig) => { exited = `${kind} exited (code ${code}, signal ${sig}):\n${output}`; resolve(); }));
  const deadline = Date.now() + 30000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${kind} did not listen within 30 s:\n${output}`); }
    await sleep(50);
  }
  // Measure a settled server: a fresh Node process keeps compiling and collecting its start-up
  // for some seconds (tandemd idle: about 120 ms of CPU in its first 10 s, none after 15 s), which
  // a long-running server has behind it.
  const settle = async (ms) => {
    // Waits until a second passes with at most one clock tick of CPU (infinoted at once), at most `ms`.
    const end = Date.now() + ms;
    let before = cpuSeconds(child.pid);
    while (Date.now() < end && !exited) {
      await sleep(1000);
      const now = cpuSeconds(child.pid);
      if (now - before <= 0.01) break;
      before = now;
    }
    if (exited) throw new Error(exited);
  };
  await settle(settleMs);
  return {
    kind, port, root, pid: child.pid,
    /** Waits (at most `ms`) until the server's deferred work (collection, saves) is done. */
    settle,
    cpu: () => cpuSeconds(child.pid),
    memory: () => memoryMiB(child.pid),
    output: () => output,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
        await exit;
        clearTimeout(killer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
