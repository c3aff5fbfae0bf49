// The tandemd process itself (dist/src/cli/tandemd.js) on loopback: what makes it refuse to start
// and its exit status after a shutdown in which a document could not be saved.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEADER, dir } from './wire.js';

const TANDEMD = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'tandemd.js');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [TANDEMD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: '/nonexistent', XDG_CONFIG_DIRS: '/nonexistent' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function until<T>(get: () => T | undefined, what: string, r?: Run): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`timed out waiting for ${what}${r ? `; stdout: ${r.stdout()} stderr: ${r.stderr()}` : ''}`);
}

/** A raw protocol client over TCP: `next(text)` waits until the output contains it. */
function client(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let buffer = '';
  socket.on('data', (b: Buffer) => (buffer += b.toString('utf8')));
  return {
    socket,
    send: (s: string) => void socket.write(s),
    async next(text: string): Promise<string> {
      const at = await until(() => (buffer.includes(text) ? buffer.indexOf(text) + text.length : undefined), text);
      const out = buffer.slice(0, at);
      buffer = buffer.slice(at);
      return out;
    },
  };
}


describe('tandemd process', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandemd-exit-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses to start with an unknown plugin, naming the closest one, as infinoted refuses', async () => {
    const r = run(['--plugins=note-text', '--plugins=autosav', '-r', root, '--security-policy=no-tls', '-p', '0', '--listen-address=127.0.0.1']);
    const code = await r.exit;
    expect(code).to.equal(1);
    expect(r.stderr()).to.match(/^tandemd: Unknown plugin "autosav" \(did you mean "autosave"\?\); the plugins are: autosave, /);
    expect(r.stdout()).not.to.include('Server running');
  });

  it('exits 1 when a document could not be saved at shutdown, after saving all the others', async () => {
    const r = run(['-r', root, '--security-policy=no-tls', '-p', '0', '--listen-address=127.0.0.1']);
    try {
      const port = Number(await until(() => /Server running on port (\d+)/.exec(r.stdout())?.[1], 'the listening line', r));
      const c = client(port);
      c.send(HEADER);
      await c.next('</stream:features>');
      c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
      await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
      c.send('<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>');
      await c.next('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
      c.send(HEADER);
      await c.next('</welcome></group>');
      for (const [i, name] of ['first', 'second'].entries()) {
        c.send(dir(`<add-node seq="${i}" parent="0" type="InfText" name="${name}"><subscribe/></add-node>`));
        const id = /<add-node id="(\d+)"/.exec(await c.next('</add-node></group>'))![1];
        c.send(dir(`<subscribe-ack id="${id}"/>`));
        c.send(`<group publisher="you" name="InfSession_${id}"><user-join seq="0" name="alice" status="active" time="" caret="0" hue="0.25"/></group>`);
        await c.next('</group>');
        c.send(`<group publisher="you" name="InfSession_${id}"><request user="1" time=""><insert-caret pos="0">text of ${name}</insert-caret></request></group>`);
      }
      // A barrier: the edits above are handled before this is answered.
      c.send(dir('<explore-node seq="9" id="0"/>'));
      await c.next('<explore-end');
      // The first document's file becomes a non-empty directory: no file can be renamed over it.
      const first = join(root, 'first.InfText');
      await unlink(first);
      await mkdir(first);
      await writeFile(join(first, 'in-the-way'), '');
      r.child.kill('SIGTERM');
      expect(await r.exit).to.equal(1);
      expect(r.stderr()).to.match(/tandemd: error while shutting down: 1 document\(s\) could not be saved: \/first \(/);
      expect(r.stdout()).to.match(/Could not save \/first: /);
      expect(await readFile(join(root, 'second.InfText'), 'utf8')).to.include('text of second');
      c.socket.destroy();
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('exits 0 after a shutdown that saved everything', async () => {
    const r = run(['-r', root, '--security-policy=no-tls', '-p', '0', '--listen-address=127.0.0.1']);
    await until(() => /Server running on port (\d+)/.exec(r.stdout())?.[1], 'the listening line', r);
    r.child.kill('SIGTERM');
    expect(await r.exit).to.equal(0);
  });
});
