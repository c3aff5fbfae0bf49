// tandemd's plugins with real libinfinity clients: two editors change a document on tandemd
// --plugins note-text,record,autosave,directory-sync; the plain-text mirror holds the exact text,
// autosave writes the document while it is open, and the session record replays to the same text
// with libinfinity's own InfAdoptedSessionReplay and with our conformance runner.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FilesystemStorage } from '@tandem/server';
import { requireRealLibinfinity, startDriver, tempDir, type InfDriver } from './harness/index.js';
import { startTandemd, type TandemdUnderTest } from './server-harness.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REPLAY = join(REPO, '..', 'shared', 'tools', 'oracle', 'replay-time.py');

async function poll<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tandemd plugins with real libinfinity clients', function () {
  this.timeout(90000);
  let server: TandemdUnderTest | undefined;
  let drivers: InfDriver[] = [];

  before(() => requireRealLibinfinity());

  afterEach(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await server?.stop();
    drivers = [];
    server = undefined;
  });

  it('mirrors, autosaves and records a concurrently edited document; the record replays to its text', async () => {
    const work = tempDir('tandem-plugins-');
    const mirror = join(work, 'mirror');
    const records = join(work, 'records');
    server = await startTandemd({
      securityPolicy: 'no-tls',
      plugins: ['note-text', 'record', 'autosave', 'directory-sync'],
      extraArgs: [
        '--plugin-parameter=autosave:interval:1',
        `--plugin-parameter=directory-sync:directory:${mirror}`,
        '--plugin-parameter=directory-sync:interval:1',
        `--plugin-parameter=record:directory:${records}`,
      ],
    });
    const s = server;
    const client = async (user: string): Promise<InfDriver> => {
      const d = await startDriver();
      drivers.push(d);
      await d.call('connect', { port: s.port, security: 'no-tls', user });
      return d;
    };
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.call('mkdir', { path: '/dir' });
    await alice.call('create', { path: '/dir/doc', text: 'e\u0301 👍 base\r\n', author: 0 });
    await alice.call('subscribe', { path: '/dir/doc' });
    await alice.call('join', { path: '/dir/doc', name: 'alice' });
    await bob.call('subscribe', { path: '/dir/doc' });
    await bob.call('join', { path: '/dir/doc', name: 'bob' });
    await alice.call('insert', { path: '/dir/doc', pos: 0, text: 'Hé😀\u0001\t' });
    // Concurrent edits from both sides, then an undo.
    await Promise.all([
      alice.call('insert', { path: '/dir/doc', pos: 2, text: 'AAA', clamp: true }),
      bob.call('insert', { path: '/dir/doc', pos: 3, text: 'BB🎉', clamp: true }),
      bob.call('delete', { path: '/dir/doc', pos: 0, len: 1, clamp: true }),
    ]);
    await alice.call('delete', { path: '/dir/doc', pos: 1, len: 2, clamp: true });
    await bob.call('undo', { path: '/dir/doc' });
    let text = '';
    await poll('convergence', async () => {
      const [a, b] = await Promise.all([alice.call('text', { path: '/dir/doc' }), bob.call('text', { path: '/dir/doc' })]);
      text = a.text;
      return a.text === b.text ? true : undefined;
    });

    // directory-sync: the mirror holds exactly the text (UTF-8, no metadata).
    const mirrored = join(mirror, 'dir', 'doc');
    await poll('the mirror', () => (existsSync(mirrored) && readFileSync(mirrored, 'utf8') === text ? true : undefined));

    // autosave: the document is on disk while the session is still open.
    const storage = new FilesystemStorage(s.root);
    await poll('the autosave', async () => {
      const doc = await storage.readText(['dir', 'doc']);
      return doc.segments.map((x) => x.text).join('') === text ? true : undefined;
    });

    // record: closed when the session goes away (shutdown), then replayed.
    await Promise.all(drivers.map((d) => d.stop()));
    drivers = [];
    await s.stop();
    const record = join(records, 'dir_doc.record-00000.xml');
    const xml = readFileSync(record, 'utf8');
    expect(xml.endsWith('</infinote-adopted-session-record>\n')).to.equal(true);
    const real = JSON.parse(execFileSync('/usr/bin/python3', [REPLAY, record, '--text'], { encoding: 'utf8' })) as { text: string; errors: number };
    expect(real.errors).to.equal(0);
    expect(real.text).to.equal(text);
    const cli = join(REPO, 'packages', 'conformance', 'dist', 'src', 'cli.js');
    const ours = execFileSync(process.execPath, [cli, '--json', record], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const result = JSON.parse(ours.split('\n').find((l) => l.startsWith('{'))!) as { ok: boolean; text: string };
    expect(result.ok).to.equal(true);
    expect(result.text).to.equal(text);
  });
});
