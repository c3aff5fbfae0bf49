// The `tandem` CLI and the @tandem/client API end to end, against the real infinoted and against
// tandemd, with every result checked through the real libinfinity client library (infdriver.py).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { connect, type TandemClient } from '@tandem/client';
import {
  requireRealLibinfinity, startDriver, startInfinoted,
  type InfDriver, type ServerOptions, type ServerUnderTest, type StartServer,
} from './harness/index.js';
import { TANDEMD, startTandemd } from './server-harness.js';

const CLI = join(dirname(createRequire(import.meta.url).resolve('@tandem/client')), 'cli', 'tandem.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would; a hard 60 s kill guards the suite against a hang. */
function tandem(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Text with everything that bites: astral emoji, combining marks, CR, form feed (uchar), XML specials. */
const TRICKY = 'Grüße 😀👍🏽 e\u0301 <&> "q" \'a\'\r\n\ftab\there\n';

function suite(kind: 'infinoted' | 'tandemd', startServer: StartServer): void {
  describe(`tandem CLI and client API against ${kind}`, function () {
    this.timeout(60000);
    let servers: ServerUnderTest[] = [];
    let drivers: InfDriver[] = [];
    let clients: TandemClient[] = [];
    let config: string;

    before(function () {
      requireRealLibinfinity();
      if (kind === 'tandemd' && !existsSync(TANDEMD)) this.skip();
    });

    beforeEach(() => {
      config = mkdtempSync(join(tmpdir(), 'tandem-cli-config-'));
    });

    afterEach(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(drivers.map((d) => d.stop()));
      await Promise.all(servers.map((s) => s.stop()));
      clients = [];
      drivers = [];
      servers = [];
      rmSync(config, { recursive: true, force: true });
    });

    async function server(options: Partial<ServerOptions> = {}): Promise<ServerUnderTest> {
      const s = await startServer({ securityPolicy: 'no-tls', ...options });
      servers.push(s);
      return s;
    }

    async function driver(s: ServerUnderTest, user: string): Promise<InfDriver> {
      const d = await startDriver();
      drivers.push(d);
      await d.call('connect', { port: s.port, security: s.securityPolicy, user, password: s.password });
      return d;
    }

    function cli(s: ServerUnderTest, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; user?: string } = {}): Promise<Run> {
      return tandem(['--host', '127.0.0.1', '--port', String(s.port), '--user', options.user ?? 'carol', '--timeout', '10', ...args], {
        env: { XDG_CONFIG_HOME: config, ...options.env },
        input: options.input,
      });
    }

    async function ok(s: ServerUnderTest, args: string[], options: { input?: string; user?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
      const r = await cli(s, args, options);
      expect(r.stderr, `tandem ${args.join(' ')}`).to.equal('');
      expect(r.code, `tandem ${args.join(' ')}`).to.equal(0);
      return r.stdout;
    }

    it('creates directories and documents and lists them with full paths, directories ending in /', async () => {
      const s = await server();
      await ok(s, ['mkdir', '-p', '/notes/2024']);
      await ok(s, ['create', '/notes/todo']);
      await ok(s, ['create', '/readme']);
      expect(await ok(s, ['ls'])).to.equal('/notes/\n/readme\n');
      expect(await ok(s, ['ls', '-R', '/'])).to.equal('/notes/\n/notes/2024/\n/notes/todo\n/readme\n');
      expect(await ok(s, ['ls', '/notes'])).to.equal('/notes/2024/\n/notes/todo\n');
      const d = await driver(s, 'lib');
      const children = (await d.call('explore', { path: '/notes' })).children.map((c) => `${c.name}:${c.type}`).sort();
      expect(children).to.deep.equal(['2024:InfSubdirectory', 'todo:InfText']);
      await ok(s, ['rm', '/notes']);
      expect(await ok(s, ['ls', '-R'])).to.equal('/readme\n');
    });

    it('puts text that libinfinity reads back byte for byte, and cats it exactly', async () => {
      const s = await server();
      await ok(s, ['put', '/doc', '-'], { input: TRICKY });
      const d = await driver(s, 'lib');
      const state = await d.call('subscribe', { path: '/doc' });
      expect(Buffer.from(state.text, 'utf8').equals(Buffer.from(TRICKY, 'utf8'))).to.equal(true);
      expect(await ok(s, ['cat', '/doc'])).to.equal(TRICKY);
    });

    it('replaces content by a minimal diff, so text nobody changed keeps its author', async () => {
      const s = await server();
      const d = await driver(s, 'lib');
      await d.call('create', { path: '/doc', text: '' });
      await d.call('subscribe', { path: '/doc' });
      await d.call('join', { path: '/doc', name: 'lib' });
      await d.call('insert', { path: '/doc', pos: 0, text: 'alpha 😀 omega' });
      await ok(s, ['put', '/doc', '-'], { input: 'alpha 😀 beta omega' });
      const state = await d.call('wait_text', { path: '/doc', text: 'alpha 😀 beta omega' });
      const authors = state.segments.map(([, text]) => text);
      expect(authors).to.deep.equal(['alpha 😀 ', 'beta ', 'omega']);
      expect(state.segments[0][0]).to.equal(state.segments[2][0]);
      expect(state.segments[1][0]).to.not.equal(state.segments[0][0]);
    });

    it('shows what libinfinity wrote with cat, and its live edits with their author in watch', async () => {
      const s = await server();
      const d = await driver(s, 'lib');
      await d.call('create', { path: '/live', text: 'x😀y' });
      expect(await ok(s, ['cat', '/live'])).to.equal('x😀y');
      await d.call('subscribe', { path: '/live' });
      await d.call('join', { path: '/live', name: 'libby' });
      const watching = cli(s, ['watch', '/live', '--for', '4']);
      await new Promise((r) => setTimeout(r, 1500));
      await d.call('insert', { path: '/live', pos: 2, text: 'Z' });
      await d.call('delete', { path: '/live', pos: 0, len: 1 });
      const r = await watching;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('libby\tinsert\t2\t"Z"\nlibby\tdelete\t0\t1\t"x"\n');
    });

    it('inserts at character positions (-1 = end) and deletes characters, counting emoji as one', async () => {
      const s = await server();
      await ok(s, ['put', '/d', '-'], { input: '😀b' });
      await ok(s, ['insert', '/d', '1', 'A']);
      await ok(s, ['insert', '/d', '-1', '!']);
      expect(await ok(s, ['cat', '/d'])).to.equal('😀Ab!');
      await ok(s, ['delete', '/d', '0', '2']);
      const d = await driver(s, 'lib');
      expect((await d.call('subscribe', { path: '/d' })).text).to.equal('b!');
      const r = await cli(s, ['insert', '/d', '9', 'x']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^tandem: position 9 is beyond the end of \/d \(2 characters\)\n$/);
    });

    it('undoes the last change of --user only, as libinfinity sees it', async () => {
      const s = await server();
      await ok(s, ['put', '/u', '-'], { input: 'one', user: 'ann' });
      await ok(s, ['insert', '/u', '-1', ' two'], { user: 'ben' });
      await ok(s, ['insert', '/u', '0', '>'], { user: 'ann' });
      await ok(s, ['undo', '/u'], { user: 'ben' });
      const d = await driver(s, 'lib');
      expect((await d.call('subscribe', { path: '/u' })).text).to.equal('>one');
      expect(await ok(s, ['users', '/u'])).to.equal('1\tann\tunavailable\n2\tben\tunavailable\n');
    });

    it('lists users with their status, including a libinfinity user who is present', async () => {
      const s = await server();
      const d = await driver(s, 'lib');
      await d.call('create', { path: '/p', text: 'hi' });
      await d.call('subscribe', { path: '/p' });
      await d.call('join', { path: '/p', name: 'present' });
      await ok(s, ['insert', '/p', '0', '>'], { user: 'gone' });
      expect(await ok(s, ['users', '/p'])).to.equal('1\tpresent\tactive\n2\tgone\tunavailable\n');
    });

    it('converges with libinfinity when both edit the same document at the same time', async () => {
      const s = await server();
      const d = await driver(s, 'lib');
      await d.call('create', { path: '/c', text: 'base' });
      await d.call('subscribe', { path: '/c' });
      await d.call('join', { path: '/c', name: 'lib' });
      const client = await connect({ host: '127.0.0.1', port: s.port, user: 'api', timeoutMs: 10000 });
      clients.push(client);
      const doc = await client.open('/c', { user: 'api' });
      const seed = Date.now() % 10000;
      let x = seed + 1;
      const rand = (n: number): number => {
        x = (x * 48271) % 2147483647;
        return x % n;
      };
      const jobs: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        const len = Array.from(doc.text).length;
        if (rand(3) === 0 && len > 0) jobs.push(doc.delete(0, doc.text.codePointAt(0)! > 0xffff ? 2 : 1));
        else jobs.push(doc.insert(doc.text.length, i % 2 ? '😀' : 'a'));
        jobs.push(d.call('insert', { path: '/c', pos: 0, text: i % 2 ? 'é' : '🎉' }));
      }
      await Promise.all(jobs);
      await doc.flush();
      await d.call('ping', {});
      const deadline = Date.now() + 10000;
      let theirs = (await d.call('text', { path: '/c' })).text;
      while (theirs !== doc.text && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        theirs = (await d.call('text', { path: '/c' })).text;
      }
      expect(doc.text, `seed ${seed}`).to.equal(theirs);
      expect(await ok(s, ['cat', '/c'])).to.equal(theirs);
    });

    it('syncs a file both ways: local saves go in, remote edits come out', async () => {
      const s = await server();
      const dir = mkdtempSync(join(tmpdir(), 'tandem-sync-'));
      const file = join(dir, 'mirror.txt');
      try {
        writeFileSync(file, 'from file\n');
        const syncing = cli(s, ['sync', '/m', file, '--for', '6']);
        const d = await driver(s, 'lib');
        await waitFor(async () => (await ok(s, ['cat', '/m'])) === 'from file\n');
        await d.call('subscribe', { path: '/m' });
        await d.call('join', { path: '/m', name: 'lib' });
        await d.call('insert', { path: '/m', pos: 0, text: '😀 ' });
        await waitFor(async () => readFileSync(file, 'utf8') === '😀 from file\n');
        writeFileSync(file, '😀 from file\nsaved\n');
        await d.call('wait_text', { path: '/m', text: '😀 from file\nsaved\n' });
        const r = await syncing;
        expect(r.code, r.stderr).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('sends a chat message that libinfinity receives', async () => {
      const s = await server();
      const d = await driver(s, 'lib');
      await d.call('chat_subscribe', { name: 'lib' });
      await ok(s, ['chat', 'hello 😀']);
      const ev = await d.waitForEvent((e) => e.event === 'chat' && e.type === 'normal');
      expect(ev).to.include({ user: 'carol', text: 'hello 😀' });
    });

    it('fails with one line on stderr and a non-zero status for a missing document', async () => {
      const s = await server();
      const r = await cli(s, ['cat', '/nope']);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal('tandem: no such document: /nope\n');
    });

    it('authenticates with PLAIN from TANDEM_PASSWORD and reports a wrong password clearly', async () => {
      const s = await server({ password: 's3cret' });
      await ok(s, ['create', '/p'], { env: { TANDEM_PASSWORD: 's3cret' } });
      const noPassword = await cli(s, ['ls']);
      expect(noPassword.code).to.equal(1);
      expect(noPassword.stderr).to.match(/requires a password/);
      const wrong = await cli(s, ['--password', 'nope', 'ls']);
      expect(wrong.code).to.equal(1);
      expect(wrong.stderr).to.match(/^tandem: authentication as "carol" \(PLAIN\) failed/);
    });

    it('pins the certificate on first use over STARTTLS and refuses a changed one unless --insecure', async () => {
      const s = await server({ securityPolicy: 'require-tls' });
      await ok(s, ['create', '/t']);
      const pins = join(config, 'tandem', 'known-servers.json');
      const saved = JSON.parse(readFileSync(pins, 'utf8'));
      const key = `127.0.0.1:${s.port}`;
      expect(saved.servers[key].fingerprint).to.match(/^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(await ok(s, ['ls'])).to.equal('/t\n');
      saved.servers[key].fingerprint = 'SHA256:00';
      writeFileSync(pins, JSON.stringify(saved));
      const refused = await cli(s, ['ls']);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/^tandem: the certificate of 127\.0\.0\.1:\d+ has changed \(pinned SHA256:00, offered SHA256:/);
      expect(refused.stderr.split('\n')).to.have.length(2);
      expect(await ok(s, ['--insecure', 'ls'])).to.equal('/t\n');
      const noTls = await cli(s, ['--no-tls', 'ls']);
      expect(noTls.code).to.equal(1);
      expect(noTls.stderr).to.match(/requires TLS/);
    });
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

suite('infinoted', startInfinoted);
suite('tandemd', startTandemd);

describe('tandem CLI timeouts', function () {
  this.timeout(30000);
  let silent: Server;
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up on a server that never answers after --timeout instead of hanging', async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const r = await tandem(['--host', '127.0.0.1', '--port', String(port), '--timeout', '1', 'ls']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^tandem: timed out after 1 s waiting for the server stream features\n$/);
  });
});
