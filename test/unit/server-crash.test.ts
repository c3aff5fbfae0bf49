// No acknowledged edit is lost on a crash: a tandemd process edited through two clients is killed
// with SIGKILL (no shutdown save), started again on the same root, and every edit another client
// had received is in the document: on disk at once (recovered at start-up, so even infinoted
// serving the root afterwards sees it) and for the next subscriber.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type TandemClient } from '@tandem/client';
import { seededRandom, testSeed, until } from './client-tandemd.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TANDEMD = join(REPO, 'packages', 'server', 'dist', 'src', 'cli', 'tandemd.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Daemon {
  child: ChildProcess;
  log: () => string;
}

async function startTandemd(root: string, home: string, port: number, extra: string[] = []): Promise<Daemon> {
  const child = spawn(process.execPath, [TANDEMD, '--listen-address=127.0.0.1', `--port=${port}`, '--security-policy=no-tls', `--root-directory=${root}`, ...extra], {
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'c'), XDG_CONFIG_DIRS: join(home, 'cd'), XDG_DATA_HOME: join(home, 'd') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandemd did not start: ${out}`)), 15000);
    const check = (): void => {
      if (/Server running on port/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`tandemd exited with ${code}: ${out}`)));
  });
  return { child, log: () => out };
}

function kill9(d: Daemon): Promise<void> {
  return new Promise((resolve) => {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return resolve();
    d.child.once('exit', () => resolve());
    d.child.kill('SIGKILL');
  });
}

describe('tandemd crash recovery (SIGKILL)', function () {
  this.timeout(60000);
  let home: string;
  let root: string;
  let daemons: Daemon[] = [];
  let clients: TandemClient[] = [];

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'tandem-crash-'));
    root = join(home, 'root');
  });
  afterEach(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const d of daemons) await kill9(d);
    clients = [];
    daemons = [];
    rmSync(home, { recursive: true, force: true });
  });

  async function client(port: number, user: string): Promise<TandemClient> {
    const c = await connect({ host: '127.0.0.1', port, tls: false, user, timeoutMs: 10000 });
    clients.push(c);
    return c;
  }

  it('keeps every edit another client had received, with authors, when tandemd is killed between saves', async () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const port = await freePort();
    const first = await startTandemd(root, home, port);
    daemons.push(first);
    const alice = await (await client(port, 'alice')).open('/notes', { user: 'alice', create: true });
    const bob = await (await client(port, 'bob')).open('/notes', { user: 'bob' });
    const alphabet = ['a', 'é', '😀', 'e\u0301', '\u0007', '\r\n', '<&>', ' '];
    for (let i = 0; i < 40; i++) {
      const [doc, other] = rand(2) === 0 ? [alice, bob] : [bob, alice];
      const len = doc.text.length;
      if (len > 4 && rand(3) === 0) {
        const at = rand(len - 1);
        await doc.delete(at, 1 + rand(2));
      } else {
        await doc.insert(rand(len + 1), alphabet[rand(alphabet.length)]!);
      }
      // Acknowledged: the other client has it.
      await until(() => other.text === doc.text, other, 'change');
    }
    const want = alice.text;
    const wantRuns = alice.segments().map((s) => [s.author?.name ?? null, s.text]);
    expect(want.length).to.be.greaterThan(0);
    // Nothing was saved since the note was created: the file still holds the empty document.
    expect(readFileSync(join(root, 'notes.InfText'), 'utf8')).to.contain('<buffer/>');
    expect(existsSync(join(root, 'notes.InfText.journal'))).to.equal(true);

    await kill9(first);
    for (const c of clients) await c.close().catch(() => undefined);
    clients = [];

    const second = await startTandemd(root, home, port);
    daemons.push(second);
    expect(second.log()).to.match(/Recovered \d+ change\(s\) of \/notes from its journal/);
    // Recovered on disk at start-up, journal gone, nothing else left in the root.
    expect(existsSync(join(root, 'notes.InfText.journal'))).to.equal(false);
    expect(readdirSync(root).filter((f) => !f.endsWith('.xml')).sort()).to.deep.equal(['notes.InfText']);
    const reader = await (await client(port, 'reader')).open('/notes');
    expect(reader.text).to.equal(want);
    expect(reader.segments().map((s) => [s.author?.name ?? null, s.text])).to.deep.equal(wantRuns);
  });

  it('recovers edits made after a save (autosave) without doubling the ones before it', async () => {
    const port = await freePort();
    const first = await startTandemd(root, home, port, ['--plugins=note-text', '--plugins=autosave', '--plugin-parameter=autosave:interval:2']);
    daemons.push(first);
    const c = await client(port, 'alice');
    const doc = await c.open('/d', { user: 'alice', create: true });
    const watcher = await (await client(port, 'w')).open('/d');
    await doc.insert(0, 'saved 😀 ');
    const file = join(root, 'd.InfText');
    const end = Date.now() + 20000;
    while (!readFileSync(file, 'utf8').includes('saved')) {
      if (Date.now() > end) throw new Error('autosave did not write the document');
      await new Promise((r) => setTimeout(r, 50));
    }
    await doc.insert(doc.text.length, 'after');
    await until(() => watcher.text === 'saved 😀 after', watcher, 'change');
    await kill9(first);
    for (const x of clients) await x.close().catch(() => undefined);
    clients = [];
    const second = await startTandemd(root, home, port);
    daemons.push(second);
    const reader = await (await client(port, 'reader')).open('/d');
    expect(reader.text).to.equal('saved 😀 after');
  });

  it('with --journal-sync=off keeps only what was saved, as infinoted does', async () => {
    const port = await freePort();
    const first = await startTandemd(root, home, port, ['--journal-sync=off']);
    daemons.push(first);
    const doc = await (await client(port, 'alice')).open('/d', { user: 'alice', create: true });
    const watcher = await (await client(port, 'w')).open('/d');
    await doc.insert(0, 'gone');
    await until(() => watcher.text === 'gone', watcher, 'change');
    await kill9(first);
    for (const x of clients) await x.close().catch(() => undefined);
    clients = [];
    expect(existsSync(join(root, 'd.InfText.journal'))).to.equal(false);
    const second = await startTandemd(root, home, port);
    daemons.push(second);
    expect((await (await client(port, 'reader')).open('/d')).text).to.equal('');
  });
});
