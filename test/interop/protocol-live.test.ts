/**
 * @tandem/protocol against the real infinoted 0.7.2: only the protocol package plus node:net and
 * node:tls. Plain TCP, STARTTLS (require-tls), allow-tls with a client that takes TLS and one that
 * does not, SASL PLAIN (--password) in the clear and inside STARTTLS; each reaches the welcome,
 * explores the root, and sees the bytes a libinfinity client gets (protocol.md 1.3-3.3).
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import {
  ClientStream, decodeDirectoryReply, decodeGroup, encodeDirectoryRequest, encodeGroup, serialize, serverHeader,
  type ClientAction, type ClientSasl, type DirectoryReply, type Element, type SecurityPolicy,
} from '@tandem/protocol';

const run = promisify(execFile);

interface Infinoted {
  port: number;
  proc: ChildProcess;
  dir: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts infinoted on a free loopback port with its own root, key and certificate; resolves once it listens. */
async function startInfinoted(policy: SecurityPolicy, password?: string): Promise<Infinoted> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-protocol-live-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
  const port = await freePort();
  const args = [`--security-policy=${policy}`, '-k', key, '-c', cert, '--listen-address=127.0.0.1', '-p', String(port), '-r', path.join(dir, 'root')];
  if (password !== undefined) args.push(`--password=${password}`);
  // HOME/XDG_CONFIG_HOME point into the temp dir so no user or system infinoted.conf is read.
  const proc = spawn('/usr/bin/infinoted', args, {
    env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_CONFIG_DIRS: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`infinoted did not start:\n${log}`)), 45000);
    const onData = (b: Buffer): void => {
      log += b.toString();
      if (/Server running on port/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`infinoted exited with ${code}:\n${log}`));
    });
  });
  proc.removeAllListeners('exit');
  return { port, proc, dir };
}

async function stopInfinoted(s: Infinoted | undefined): Promise<void> {
  if (!s) return;
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await exited;
  }
  await rm(s.dir, { recursive: true, force: true });
}

/** One client session: drives ClientStream over a socket and records every byte received as text. */
class LiveClient {
  readonly received: string[] = [];
  readonly stanzas: Element[] = [];
  readonly events: ClientAction[] = [];
  private socket: net.Socket | tls.TLSSocket;
  private waiters: (() => void)[] = [];
  private ended = false;
  tlsSeen = false;

  constructor(
    port: number,
    private readonly stream: ClientStream,
  ) {
    this.socket = net.connect(port, '127.0.0.1');
    this.attach(this.socket);
    this.socket.once('connect', () => this.apply(this.stream.start()));
  }

  private attach(sock: net.Socket | tls.TLSSocket): void {
    sock.on('data', (b: Buffer) => {
      this.received.push(b.toString('utf8'));
      this.apply(this.stream.receive(new Uint8Array(b)));
    });
    sock.on('close', () => {
      this.ended = true;
      this.apply(this.stream.transportClosed());
    });
    sock.on('error', () => undefined);
  }

  private apply(actions: ClientAction[]): void {
    for (const a of actions) {
      this.events.push(a);
      if (a.type === 'send') this.socket.write(a.data);
      else if (a.type === 'stanza') this.stanzas.push(a.element);
      else if (a.type === 'starttls') this.upgrade();
      else if (a.type === 'close') this.socket.end();
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private upgrade(): void {
    const raw = this.socket as net.Socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    // The server's certificate is self-signed for the test; identity checks belong to the client package.
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    this.socket = secure;
    secure.once('secureConnect', () => {
      this.tlsSeen = true;
      this.received.push('*TLS*');
      this.attach(secure);
      this.apply(this.stream.tlsEstablished());
    });
  }

  send(el: Element): void {
    this.socket.write(serialize(el));
  }

  /** Resolves when `pred` holds, checked after every action batch; fails after a timeout. */
  async until(pred: () => boolean, what: string, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.ended && !pred()) throw new Error(`connection ended before ${what}; received: ${this.received.join('')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${this.received.join('')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  directory(): DirectoryReply[] {
    return this.stanzas.map(decodeGroup).filter((g) => g.name === 'InfDirectory').flatMap((g) => g.messages.map(decodeDirectoryReply));
  }

  retry(sasl: ClientSasl): void {
    this.apply(this.stream.retry(sasl));
  }

  close(): void {
    this.apply(this.stream.close());
  }
}

const HOST = os.hostname();
const MECH = (m: string) => `<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>${m}</mechanism></mechanisms>`;
const CHALLENGE = '<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>';
const SUCCESS = '<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>';
/** The welcome of a fresh infinoted with the default plugin set (capture 01). */
const WELCOME =
  '<group name="InfDirectory"><welcome protocol-version="1.1" sequence-id="1"><note-plugins><note-plugin type="InfText"/></note-plugins><acl><sheet id="default" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="no" can-create-account="no" can-override-account="no" can-remove-account="no" can-query-acl="no" can-set-acl="no"/></acl></welcome></group>';
const EXPLORED = '<group name="InfDirectory"><explore-begin total="0" seq="1/0"/></group><group name="InfDirectory"><explore-end seq="1/0"/></group>';

async function session(port: number, policy: SecurityPolicy, sasl: ClientSasl): Promise<LiveClient> {
  const c = new LiveClient(port, new ClientStream({ host: 'localhost', policy, sasl }));
  await c.until(() => c.directory().some((m) => m.kind === 'welcome'), 'the welcome');
  c.send(encodeGroup('InfDirectory', encodeDirectoryRequest({ kind: 'explore-node', seq: 0, id: 0 }), 'you'));
  await c.until(() => c.directory().some((m) => m.kind === 'explore-end'), 'explore-end');
  c.close();
  await c.until(() => c.events.some((e) => e.type === 'close'), 'the server closing the stream');
  return c;
}

describe('protocol against a live infinoted', function () {
  this.timeout(60000);
  let plain: Infinoted | undefined;
  let secured: Infinoted | undefined;
  let withPassword: Infinoted | undefined;
  let optional: Infinoted | undefined;
  let securedPassword: Infinoted | undefined;

  before(async () => {
    [plain, secured, withPassword, optional, securedPassword] = await Promise.all([
      startInfinoted('no-tls'),
      startInfinoted('require-tls'),
      startInfinoted('no-tls', 'secret'),
      startInfinoted('allow-tls'),
      startInfinoted('require-tls', 'secret'),
    ]);
  });

  after(async () => {
    await Promise.all([plain, secured, withPassword, optional, securedPassword].map(stopInfinoted));
  });

  it('logs in anonymously over plain TCP, gets the welcome and explores the root, byte for byte', async () => {
    const c = await session(plain!.port, 'no-tls', { anonymous: { trace: 'alice' } });
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) + `<stream:features>${MECH('ANONYMOUS')}</stream:features>` + CHALLENGE + SUCCESS +
        serverHeader(HOST) + '<stream:features/>' + WELCOME + EXPLORED + '</stream:stream>',
    );
    const welcome = c.directory().find((m) => m.kind === 'welcome');
    expect(welcome).to.deep.include({ kind: 'welcome', protocolVersion: '1.1', sequenceId: 1, notePlugins: ['InfText'] });
  });

  it('negotiates STARTTLS under require-tls and logs in inside TLS', async () => {
    const c = await session(secured!.port, 'allow-tls', { anonymous: { trace: 'tlsuser' } });
    expect(c.tlsSeen).to.equal(true);
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) +
        `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>${MECH('ANONYMOUS')}</stream:features>` +
        '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>' + '*TLS*' +
        serverHeader(HOST) + `<stream:features>${MECH('ANONYMOUS')}</stream:features>` + CHALLENGE + SUCCESS +
        serverHeader(HOST) + '<stream:features/>' + WELCOME + EXPLORED + '</stream:stream>',
    );
  });

  it('refuses a no-tls client when the server requires TLS, as libinfinity does', async () => {
    const c = new LiveClient(secured!.port, new ClientStream({ host: 'localhost', policy: 'no-tls', sasl: { anonymous: { trace: 'x' } } }));
    await c.until(() => c.events.some((e) => e.type === 'close'), 'the refusal');
    expect(c.events.find((e) => e.type === 'close')).to.deep.include({ reason: 'error', message: 'The server requires transport layer security (TLS)' });
  });

  it('logs in with SASL PLAIN and --password, after a failed attempt on the same stream', async () => {
    const c = new LiveClient(withPassword!.port, new ClientStream({ host: 'localhost', policy: 'no-tls', sasl: { plain: { authcid: 'alice', password: 'wrong' } } }));
    await c.until(() => c.events.some((e) => e.type === 'auth-failed'), 'the failure');
    const failed = c.events.find((e) => e.type === 'auth-failed');
    expect(failed?.type === 'auth-failed' && failed.condition).to.equal('not-authorized');
    expect(failed?.type === 'auth-failed' && failed.detail?.is('INF_AUTHENTICATION_DETAIL_ERROR', 0)).to.equal(true);
    // Retry on the same stream (protocol.md 1.5): the server waits for a new <auth>.
    c.retry({ plain: { authcid: 'alice', password: 'secret' } });
    await c.until(() => c.directory().some((m) => m.kind === 'welcome'), 'the welcome after retry');
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) + `<stream:features>${MECH('PLAIN')}</stream:features>` + CHALLENGE +
        '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>' +
        CHALLENGE + SUCCESS + serverHeader(HOST) + '<stream:features/>' + WELCOME,
    );
    c.close();
    await c.until(() => c.events.some((e) => e.type === 'close'), 'the close');
  });

  it('allow-tls: offers STARTTLS without <required/>, and a client that prefers TLS logs in inside it', async () => {
    const c = await session(optional!.port, 'allow-tls', { anonymous: { trace: 'tlsuser' } });
    expect(c.tlsSeen).to.equal(true);
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) +
        `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>${MECH('ANONYMOUS')}</stream:features>` +
        '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>' + '*TLS*' +
        serverHeader(HOST) + `<stream:features>${MECH('ANONYMOUS')}</stream:features>` + CHALLENGE + SUCCESS +
        serverHeader(HOST) + '<stream:features/>' + WELCOME + EXPLORED + '</stream:stream>',
    );
  });

  it('allow-tls: a no-tls client ignores the offer and logs in over plain TCP', async () => {
    const c = await session(optional!.port, 'no-tls', { anonymous: { trace: 'plainuser' } });
    expect(c.tlsSeen).to.equal(false);
    expect(c.events.some((e) => e.type === 'starttls')).to.equal(false);
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) +
        `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>${MECH('ANONYMOUS')}</stream:features>` +
        CHALLENGE + SUCCESS + serverHeader(HOST) + '<stream:features/>' + WELCOME + EXPLORED + '</stream:stream>',
    );
  });

  it('require-tls with --password: STARTTLS first, then SASL PLAIN (with a failed attempt and a retry) inside TLS', async () => {
    const c = new LiveClient(securedPassword!.port, new ClientStream({ host: 'localhost', policy: 'require-tls', sasl: { plain: { authcid: 'alice', password: 'wrong' } } }));
    await c.until(() => c.events.some((e) => e.type === 'auth-failed'), 'the failure');
    expect(c.tlsSeen).to.equal(true);
    c.retry({ plain: { authcid: 'alice', password: 'secret' } });
    await c.until(() => c.directory().some((m) => m.kind === 'welcome'), 'the welcome after retry');
    c.send(encodeGroup('InfDirectory', encodeDirectoryRequest({ kind: 'explore-node', seq: 0, id: 0 }), 'you'));
    await c.until(() => c.directory().some((m) => m.kind === 'explore-end'), 'explore-end');
    expect(c.received.join('')).to.equal(
      serverHeader(HOST) +
        `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>${MECH('PLAIN')}</stream:features>` +
        '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>' + '*TLS*' +
        serverHeader(HOST) + `<stream:features>${MECH('PLAIN')}</stream:features>` + CHALLENGE +
        '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>' +
        CHALLENGE + SUCCESS + serverHeader(HOST) + '<stream:features/>' + WELCOME + EXPLORED,
    );
    c.close();
    await c.until(() => c.events.some((e) => e.type === 'close'), 'the close');
  });
});
