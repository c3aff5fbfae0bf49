// The `tandem` CLI against an in-process tandemd: every command through runCli (the function
// bin/tandem.js runs), with its exact stdout, stderr and exit status; one spawned process for
// what only a process shows (it exits, nothing left hanging).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { connect, runCli, type TandemClient, type TextDocument } from '@tandem/client';
import { type InProcessTandemd, startInProcessTandemd } from './client-tandemd.js';

const BIN = join(dirname(createRequire(import.meta.url).resolve('@tandem/client')), '..', '..', 'bin', 'tandem.js');

/** Text with everything that bites: astral emoji, a modifier sequence, a combining mark, CR LF,
 * control characters (sent as <uchar/>), XML specials. */
const TRICKY = 'Grüße 😀👍🏽 e\u0301 <&> "q"\r\n\u0001\u0007\f\u001b tab\there\n';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Ends watch, sync and chat (as Ctrl-C would). */
  interrupt?: Promise<void>;
  onListening?: () => void;
  /** stderr claims to be a terminal of 80 columns (progress bars). */
  tty?: boolean;
  progressDelayMs?: number;
}

/** A long-running command: its output so far, a promise of its end, and a way to stop it. */
interface Running {
  out: { stdout: string; stderr: string };
  listening: Promise<void>;
  stop(): Promise<Run>;
  done: Promise<Run>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds; fails with `what` after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${ms / 1000} s: ${what}`);
    await sleep(20);
  }
}

describe('tandem CLI on an in-process tandemd', function () {
  this.timeout(15000);
  let tandemd: InProcessTandemd | undefined;
  let dir: string;
  let clients: TandemClient[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-cli-unit-'));
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await tandemd?.close();
    tandemd = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function server(options: { password?: string } = {}): Promise<void> {
    tandemd = await startInProcessTandemd(options);
  }

  const port = (): string => String(tandemd!.port);

  function start(args: string[], options: RunOptions = {}): { out: { stdout: string; stderr: string }; done: Promise<Run> } {
    const out = { stdout: '', stderr: '' };
    const stderr = {
      isTTY: options.tty === true,
      columns: 80,
      write(chunk: string) {
        out.stderr += chunk;
        return true;
      },
    };
    const done = runCli(args, {
      env: { XDG_CONFIG_HOME: dir, ...options.env },
      stdin: Readable.from([Buffer.from(options.input ?? '', 'utf8')]),
      stdout: {
        write(chunk: string) {
          out.stdout += chunk;
          return true;
        },
      },
      stderr,
      interrupted: options.interrupt,
      onListening: options.onListening,
      progressDelayMs: options.progressDelayMs,
    }).then((code) => ({ code, ...out }));
    return { out, done };
  }

  /** `tandem --host 127.0.0.1 --port P --user USER ARGS`, run to its end. */
  function tandem(args: string[], options: RunOptions & { user?: string } = {}): Promise<Run> {
    return start(['--host', '127.0.0.1', '--port', port(), '--user', options.user ?? 'carol', '--timeout', '5', ...args], options).done;
  }

  /** Like tandem(), and expects success with nothing on stderr; gives stdout. */
  async function ok(args: string[], options: RunOptions & { user?: string } = {}): Promise<string> {
    const r = await tandem(args, options);
    expect(r.stderr, `tandem ${args.join(' ')}`).to.equal('');
    expect(r.code, `tandem ${args.join(' ')}`).to.equal(0);
    return r.stdout;
  }

  /** A long-running command (watch, sync, chat) that runs until stop() or its --for. */
  function listen(args: string[], options: RunOptions & { user?: string } = {}): Running {
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const { out, done } = start(
      ['--host', '127.0.0.1', '--port', port(), '--user', options.user ?? 'carol', '--timeout', '5', ...args],
      { ...options, interrupt: interrupted, onListening: listening },
    );
    // A command that fails before listening must fail the test, not hang it.
    const listeningOrFailed = Promise.race([ready, done.then((r) => Promise.reject(new Error(`ended before listening: ${JSON.stringify(r)}`)))]);
    return {
      out,
      listening: listeningOrFailed,
      done,
      stop: () => {
        interrupt();
        return done;
      },
    };
  }

  async function api(user: string): Promise<TandemClient> {
    const c = await connect({ host: '127.0.0.1', port: tandemd!.port, tls: false, user, timeoutMs: 5000 });
    clients.push(c);
    return c;
  }

  async function edit(path: string, user: string, text?: string): Promise<TextDocument> {
    const doc = await (await api(user)).open(path, { user, create: true });
    if (text !== undefined) await doc.setText(text);
    return doc;
  }

  describe('directories', () => {
    it('creates directories (mkdir -p) and documents and lists them with full paths, recursively with -R', async () => {
      await server();
      await ok(['mkdir', '-p', '/notes/2024/q1']);
      await ok(['mkdir', '-p', '/notes/2024']);
      await ok(['mkdir', '/empty']);
      await ok(['create', '/notes/todo']);
      await ok(['create', '/readme']);
      expect(await ok(['ls'])).to.equal('/empty/\n/notes/\n/readme\n');
      expect(await ok(['ls', '/notes'])).to.equal('/notes/2024/\n/notes/todo\n');
      expect(await ok(['ls', '-R', '/'])).to.equal('/empty/\n/notes/\n/notes/2024/\n/notes/2024/q1/\n/notes/todo\n/readme\n');
      expect(await ok(['ls', '/readme'])).to.equal('/readme\n');
      const lister = await api('lister');
      expect((await lister.browse('/notes/2024')).map((n) => n.path)).to.deep.equal(['/notes/2024/q1/']);
    });

    it('removes a document and a directory with everything in it', async () => {
      await server();
      await ok(['mkdir', '-p', '/a/b']);
      await ok(['create', '/a/b/doc']);
      await ok(['create', '/keep']);
      await ok(['rm', '/a']);
      await ok(['rm', '/keep']);
      expect(await ok(['ls', '-R'])).to.equal('');
      const r = await tandem(['rm', '/a']);
      expect(r).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: no such document or directory: /a\n' });
    });

    it('fails mkdir of a missing parent without -p with one clear line and status 1, creating nothing', async () => {
      await server();
      const r = await tandem(['mkdir', '/missing/child']);
      expect(r).to.deep.equal({
        code: 1,
        stdout: '',
        stderr: 'tandem: cannot create /missing/child: no such document or directory: /missing (mkdir -p creates missing parents)\n',
      });
      expect(await ok(['ls', '-R'])).to.equal('');
    });

    it('fails create of an existing name with the server\'s reason', async () => {
      await server();
      await ok(['create', '/dup']);
      const r = await tandem(['create', '/dup']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^tandem: cannot create \/dup: .+\n$/);
    });
  });

  describe('text', () => {
    it('cats the exact text, byte for byte: emoji, CR LF and control characters, no newline added', async () => {
      await server();
      await edit('/t', 'writer', TRICKY);
      const out = await ok(['cat', '/t']);
      expect(Buffer.from(out, 'utf8').equals(Buffer.from(TRICKY, 'utf8'))).to.equal(true);
      expect(await ok(['cat', '/t'])).to.equal(TRICKY);
      const missing = await tandem(['cat', '/nope']);
      expect(missing).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: no such document: /nope\n' });
    });

    it('puts a file (creating the document) and stdin, by a minimal diff that keeps the authors of unchanged text', async () => {
      await server();
      const file = join(dir, 'in.txt');
      await writeFile(file, TRICKY);
      await ok(['put', '/p', file], { user: 'ann' });
      const reader = await (await api('reader')).open('/p');
      expect(reader.text).to.equal(TRICKY);
      const changed = TRICKY.replace('e\u0301', 'e\u0301 and 🎉');
      await ok(['put', '/p', '-'], { user: 'ben', input: changed });
      await eventually(() => reader.text === changed, 'the reader sees the second put');
      expect(reader.segments().map((s) => [s.author?.name, s.text])).to.deep.equal([
        ['ann', 'Grüße 😀👍🏽 e\u0301 '],
        ['ben', 'and 🎉 '],
        ['ann', '<&> "q"\r\n\u0001\u0007\f\u001b tab\there\n'],
      ]);
      const missing = await tandem(['put', '/p', join(dir, 'absent.txt')]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/^tandem: ENOENT: no such file or directory, open '.*absent\.txt'\n$/);
    });

    it('inserts at character positions (emoji count once, -1 is the end) and deletes characters', async () => {
      await server();
      await ok(['put', '/d', '-'], { input: '😀b' });
      await ok(['insert', '/d', '1', 'A']);
      await ok(['insert', '/d', '-1', '!\u0007']);
      await ok(['insert', '/d', '0', 'e\u0301']);
      expect(await ok(['cat', '/d'])).to.equal('e\u0301😀Ab!\u0007');
      await ok(['delete', '/d', '2', '2']);
      expect(await ok(['cat', '/d'])).to.equal('e\u0301b!\u0007');
      await ok(['delete', '/d', '1', '1']);
      expect(await ok(['cat', '/d'])).to.equal('eb!\u0007');
      const beyond = await tandem(['insert', '/d', '9', 'x']);
      expect(beyond).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: position 9 is beyond the end of /d (4 characters)\n' });
      const tooLong = await tandem(['delete', '/d', '2', '5']);
      expect(tooLong).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: cannot delete 5 characters at 2: /d has 4\n' });
      const notNumber = await tandem(['insert', '/d', 'x', 'y']);
      expect(notNumber).to.deep.equal({ code: 2, stdout: '', stderr: 'tandem: POS must be an integer, got "x"\n' });
    });

    it('undoes the last change of --user only, and refuses a user who never edited', async () => {
      await server();
      await ok(['put', '/u', '-'], { input: 'one', user: 'ann' });
      await ok(['insert', '/u', '-1', ' two'], { user: 'ben' });
      await ok(['insert', '/u', '0', '>'], { user: 'ann' });
      await ok(['undo', '/u'], { user: 'ben' });
      expect(await ok(['cat', '/u'])).to.equal('>one');
      await ok(['undo', '/u'], { user: 'ann' });
      expect(await ok(['cat', '/u'])).to.equal('one');
      const stranger = await tandem(['undo', '/u'], { user: 'zed' });
      expect(stranger).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: "zed" has never edited /u\n' });
    });

    it('lists users with id, name and status', async () => {
      await server();
      await ok(['put', '/w', '-'], { input: 'x', user: 'gone' });
      await edit('/w', 'present');
      expect(await ok(['users', '/w'])).to.equal('1\tgone\tunavailable\n2\tpresent\tactive\n');
    });
  });

  describe('watch', () => {
    it('prints live changes with their authors, in characters, and users joining and leaving, until --for ends', async () => {
      await server();
      await edit('/live', 'owner', 'x😀y');
      const began = Date.now();
      const watch = listen(['watch', '/live', '--for', '1.5']);
      await watch.listening;
      const bob = await edit('/live', 'bob');
      await bob.insert(3, 'Z'); // after the emoji: character 2
      await bob.delete(0, 1);
      await bob.delete(0, 2); // the emoji
      bob.close();
      const r = await watch.done;
      expect(Date.now() - began).to.be.within(1400, 5000);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(
        'bob\tjoined\n' +
          'bob\tinsert\t2\t"Z"\n' +
          'bob\tdelete\t0\t1\t"x"\n' +
          'bob\tdelete\t0\t1\t"😀"\n' +
          'bob\tleft\n',
      );
    });

    it('ends with status 1 and a line when the document is removed', async () => {
      await server();
      await edit('/gone', 'owner', 'text');
      const watch = listen(['watch', '/gone']);
      await watch.listening;
      await (await api('remover')).remove('/gone');
      const r = await watch.done;
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^tandem: the server closed the session .+ \(the document was removed or the server is shutting down\)\n$/);
    });
  });

  describe('sync', () => {
    it('puts a non-empty file into the document first, then carries local saves and remote edits both ways', async () => {
      await server();
      const remote = await edit('/s', 'remote', 'old text');
      const file = join(dir, 'notes.txt');
      await writeFile(file, 'from file\n');
      const sync = listen(['sync', '/s', file]);
      await sync.listening;
      await eventually(() => remote.text === 'from file\n', 'the file replaced the document');
      await remote.insert(0, '😀 ');
      await eventually(async () => (await readFile(file, 'utf8')) === '😀 from file\n', 'the remote edit reached the file');
      await writeFile(file, '😀 from file\nsaved\n');
      await eventually(() => remote.text === '😀 from file\nsaved\n', 'the local save reached the document');
      // The save went in as a diff: the remote user's emoji keeps its author.
      expect(remote.segments()[0]).to.deep.include({ text: '😀 ' });
      expect(remote.segments()[0]!.author?.name).to.equal('remote');
      const r = await sync.stop();
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(await readFile(file, 'utf8')).to.equal('😀 from file\nsaved\n');
    });

    it('writes the document into an empty or missing file first', async () => {
      await server();
      await edit('/e', 'remote', 'document text 🎉\r\n');
      const file = join(dir, 'new.txt');
      const sync = listen(['sync', '/e', file]);
      await sync.listening;
      expect(await readFile(file, 'utf8')).to.equal('document text 🎉\r\n');
      const r = await sync.stop();
      expect(r.code, r.stderr).to.equal(0);
    });

    it('keeps a remote edit and a local save made at the same time, in the document and in the file', async () => {
      await server();
      const remote = await edit('/c', 'remote', 'line one\nline two\n');
      const file = join(dir, 'c.txt');
      const sync = listen(['sync', '/c', file]);
      await sync.listening;
      expect(await readFile(file, 'utf8')).to.equal('line one\nline two\n');

      // The remote edit reaches the sync client, and before its write to the file is due the
      // editor saves the version it had (without the remote edit) plus a line of its own.
      await remote.insert(0, 'R1 ');
      await writeFile(file, 'line one\nline two\nL1\n');
      const first = 'R1 line one\nline two\nL1\n';
      await eventually(async () => remote.text === first && (await readFile(file, 'utf8')) === first, 'both edits in both places');

      // The other order: the save first, the remote edit while it is being merged.
      await writeFile(file, first + 'L2 😀\n');
      await remote.insert(remote.text.indexOf('line two'), 'R2 ');
      const second = 'R1 line one\nR2 line two\nL1\nL2 😀\n';
      await eventually(async () => remote.text === second && (await readFile(file, 'utf8')) === second, 'both edits in both places');

      const r = await sync.stop();
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(await readFile(file, 'utf8')).to.equal(second);
      expect((await (await api('reader')).open('/c')).text).to.equal(second);
    });

    it('keeps a local save that overlaps a concurrent remote edit beside the file and says so', async () => {
      await server();
      const remote = await edit('/k', 'remote', 'the cat sat\n');
      const file = join(dir, 'k.txt');
      const sync = listen(['sync', '/k', file]);
      await sync.listening;
      await remote.setText('the bird sat\n');
      await writeFile(file, 'the dog sat\n');
      await eventually(async () => existsSync(file + '.conflict') && (await readFile(file, 'utf8')) === 'the bird sat\n', 'the conflict handled');
      expect(await readFile(file + '.conflict', 'utf8')).to.equal('the dog sat\n');
      expect(remote.text).to.equal('the bird sat\n');
      const r = await sync.stop();
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal(`tandem: sync: a local change overlaps with remote edits and was not applied; your version is in ${file}.conflict\n`);
    });

    it('draws a progress bar on a terminal for a local save that takes a while to upload, not only the first', async () => {
      await server();
      const remote = await edit('/big', 'remote', 'small\n');
      const file = join(dir, 'big.txt');
      const sync = listen(['sync', '/big', file], { tty: true, progressDelayMs: 0 });
      await sync.listening;
      expect(sync.out.stderr).to.equal('');
      const big = 'small\n' + '0123456789abcdef😀\n'.repeat(20000);
      await writeFile(file, big);
      await eventually(() => remote.text === big, 'the big save reached the document', 10000);
      await eventually(() => sync.out.stderr.endsWith('\n'), 'the bar finished');
      const r = await sync.stop();
      expect(r.code).to.equal(0);
      expect(r.stderr).to.match(/^\rsync \/big \[/);
      expect(r.stderr).to.match(/\rsync \/big \[#+\] 100% 360K\/360K chars\x1b\[K\n$/);
    });
  });

  describe('put progress', () => {
    it('draws a character-based bar on a terminal stderr, and nothing when stderr is not a terminal', async () => {
      await server();
      const text = 'x'.repeat(100_000) + '😀\n';
      const onTty = await tandem(['put', '/p', '-'], { input: text, tty: true, progressDelayMs: 0 });
      expect(onTty.code).to.equal(0);
      expect(onTty.stderr).to.match(/^\rput \/p \[/);
      expect(onTty.stderr).to.match(/\rput \/p \[#+\] 100% 100K\/100K chars\x1b\[K\n$/);
      const piped = await tandem(['put', '/q', '-'], { input: text, progressDelayMs: 0 });
      expect(piped).to.deep.equal({ code: 0, stdout: '', stderr: '' });
      expect(await ok(['cat', '/p'])).to.equal(text);
    });
  });

  describe('chat', () => {
    it('sends a message that a listening chat prints with the sender\'s join and part, and shows all of it in the backlog later', async () => {
      await server();
      const listener = listen(['chat'], { user: 'carol' });
      await listener.listening;
      await ok(['chat', 'hello 😀 <&>'], { user: 'dave' });
      await eventually(() => listener.out.stdout.includes('-- dave left\n'), 'the listener printed the message and the part');
      const r = await listener.stop();
      expect(r.code, r.stderr).to.equal(0);
      // Others' joins and parts show live, as in Gobby's chat.
      expect(r.stdout).to.equal('-- dave joined\ndave: hello 😀 <&>\n-- dave left\n');
      const later = await tandem(['chat', '--for', '0.2'], { user: 'erin' });
      expect(later.code).to.equal(0);
      expect(later.stdout).to.equal('-- carol joined\n-- dave joined\ndave: hello 😀 <&>\n-- dave left\n-- carol left\n');
    });
  });

  describe('connecting', () => {
    it('authenticates with TANDEM_PASSWORD or --password-file and fails clearly without or with a wrong one', async () => {
      await server({ password: 's3cret' });
      await ok(['create', '/p1'], { env: { TANDEM_PASSWORD: 's3cret' } });
      const pw = join(dir, 'password');
      await writeFile(pw, 's3cret\n');
      expect(await ok(['--password-file', pw, 'ls'])).to.equal('/p1\n');
      const none = await tandem(['ls']);
      expect(none).to.deep.equal({
        code: 1,
        stdout: '',
        stderr: `tandem: 127.0.0.1:${port()} requires a password (--password, --password-file or TANDEM_PASSWORD)\n`,
      });
      await writeFile(pw, 'wrong\n');
      const wrong = await tandem(['--password-file', pw, 'ls']);
      expect(wrong.code).to.equal(1);
      expect(wrong.stderr).to.match(/^tandem: authentication as "carol" \(PLAIN\) failed: .+\n$/);
      const absent = await tandem(['--password-file', join(dir, 'absent'), 'ls']);
      expect(absent.code).to.equal(1);
      expect(absent.stderr).to.match(/^tandem: cannot read the password file .*absent: ENOENT.*\n$/);
    });

    it('refuses --tls against a server without TLS', async () => {
      await server();
      const r = await tandem(['--tls', 'ls']);
      expect(r).to.deep.equal({ code: 1, stdout: '', stderr: `tandem: 127.0.0.1:${port()} does not offer TLS (try --no-tls)\n` });
    });

    it('exits with status 2 and one line on a usage error', async () => {
      const r = await start(['frobnicate']).done;
      expect(r).to.deep.equal({ code: 2, stdout: '', stderr: 'tandem: unknown command "frobnicate" (try "tandem help")\n' });
    });
  });

  describe('a server that never answers', () => {
    let silent: Server;
    const sockets: Socket[] = [];

    beforeEach(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });

    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    const silentPort = (): string => String((silent.address() as { port: number }).port);

    it('gives up after --timeout with one line instead of hanging', async () => {
      const began = Date.now();
      const r = await start(['--host', '127.0.0.1', '--port', silentPort(), '--timeout', '0.5', 'ls']).done;
      expect(Date.now() - began).to.be.below(3000);
      expect(r).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: timed out after 0.5 s waiting for the server stream features\n' });
    });

    it('gives up on an interrupt (Ctrl-C) before the timeout', async () => {
      const began = Date.now();
      const r = await start(['--host', '127.0.0.1', '--port', silentPort(), '--timeout', '10', 'cat', '/x'], { interrupt: sleep(100) }).done;
      expect(r).to.deep.equal({ code: 1, stdout: '', stderr: 'tandem: interrupted\n' });
      expect(Date.now() - began).to.be.below(2000);
    });

    it('ends the tandem process too (status 1), with nothing left keeping it alive', async () => {
      const began = Date.now();
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--port', silentPort(), '--timeout', '0.5', 'cat', '/x'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(killer);
          resolve({ code, stderr });
        });
      });
      expect(r).to.deep.equal({ code: 1, stderr: 'tandem: timed out after 0.5 s waiting for the server stream features\n' });
      expect(Date.now() - began).to.be.below(6000);
    });
  });
});
