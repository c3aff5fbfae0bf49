// What a Gobby user waits for when opening a document: the real libinfinity 0.7 client (the
// interop tests' driver, test/interop/py/infdriver.py, on Debian's python3-gi bindings) subscribes
// and the driver times, inside its GLib main loop, the subscribe request until the complete
// synchronisation (the session is running). The directory is explored before the timer starts.
// Every open is a fresh driver process and connection; the text's length and sha256 come back
// to check that both servers sent the same document.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('../../test/interop/py/infdriver.py', import.meta.url));
const PYTHON = process.env.TANDEM_PYTHON ?? '/usr/bin/python3';

/** One libinfinity client: connect, subscribe to `path` (timed by the driver), close. */
async function openOnce(port, path) {
  const child = spawn(PYTHON, ['-u', DRIVER], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8', LC_ALL: 'C.UTF-8' } });
  let stderr = '';
  child.stderr.on('data', (b) => { stderr = (stderr + b).slice(-4000); });
  const lines = createInterface({ input: child.stdout });
  const waiting = new Map();
  lines.on('line', (line) => {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    const w = m.id !== undefined && waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m);
    else w.reject(new Error(m.error));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let next = 1;
  const call = (cmd, args = {}) => new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    child.stdin.write(JSON.stringify({ id, cmd, timeout: 300000, ...args }) + '\n');
    exited.then(() => reject(new Error(`libinfinity driver exited: ${stderr}`)));
  });
  try {
    await call('connect', { port, security: 'no-tls', user: 'gobby' });
    return await call('subscribe', { path, summary: true });
  } finally {
    child.stdin.end();
    child.kill('SIGKILL');
    await exited;
  }
}

/** `n` opens of `path` by fresh libinfinity clients: the times (ms), the text's length and hash. */
export async function gobbyOpens(port, path, n) {
  const times = [];
  let text;
  for (let i = 0; i < n; i++) {
    const r = await openOnce(port, path);
    times.push(r.ms);
    text = { length: r.length, sha256: r.sha256 };
  }
  return { times, ...text };
}
