// Hostile peers on the wire: seeded clients send well-formed and malformed protocol messages
// (wrong ids, numbers that are not numbers, vectors that lie, unknown elements, names the file
// system refuses, deep nesting, cut-off stanzas) into the session two @tandem/client users edit.
// Whatever they send, the server must answer or close them, never throw, and the honest clients
// must end with the server's text, also after a restart.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@tandem/client';
import { FilesystemStorage, createServer, listenTcp, type TandemServer } from '@tandem/server';
import { seededRandom, testSeed } from './client-tandemd.js';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const WEIRD = ['', '-1', '0', '1', '2', '4294967295', '4294967296', '99999999999999999999', '1.5', 'NaN', 'abc', '1:2;3:4', '1:-1',
  '1:1;1:2', '0:1', ':', ';', 'x:y', '\u{1F600}', '&amp;&lt;', 'a'.repeat(300), ' 1', '1e3', '0x10', '+1', '-0'];
const TEXTS = ['a', 'hello', '\u{1F600}\u{1F44D}\u{1F3FD}', 'e\u0301', '\t\n', '\u0007\u001b', 'x'.repeat(2000), '&amp;', '&lt;x&gt;', '\u{10FFFF}'];

/** A log line that says the server failed, not the client. */
const serverFault = (l: string): boolean => /Internal error|TypeError|RangeError|ReferenceError|SyntaxError|\n\s+at /.test(l);

interface Hostile {
  done: Promise<void>;
  closedByServer(): boolean;
  end(): void;
}

function hostile(port: number, i: number, docId: number, steps: number, rnd: (n: number) => number): Hostile {
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const val = (good: string): string => (rnd(100) < 15 ? pick(WEIRD) : good);
  const pos = (): string => (rnd(4) === 0 ? pick(WEIRD) : String(rnd(30)));
  const g = (name: string, body: string): string => `<group publisher="you" name="${name}">${body}</group>`;
  const dir = (body: string): string => g('InfDirectory', body);
  const session = `InfSession_${docId}`;
  const s: Socket = tcpConnect(port, '127.0.0.1');
  s.on('error', () => undefined);
  let buf = '';
  let closed = false;
  let ended = false;
  let seq = 1;
  const users = new Set<string>();
  const nodes = new Set<string>(['0']);
  s.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (const m of buf.matchAll(/<user-join [^>]*\bid="(\d+)"/g)) users.add(m[1]!);
    for (const m of buf.matchAll(/<add-node id="(\d+)"/g)) if (Number(m[1]) !== docId) nodes.add(m[1]!);
    if (buf.length > 200_000) buf = buf.slice(-2000);
  });
  s.on('close', () => void (closed = true));
  const wait = async (pattern: string): Promise<boolean> => {
    for (let t = 0; t < 500 && !closed; t++) {
      const at = buf.indexOf(pattern);
      if (at >= 0) {
        buf = buf.slice(at + pattern.length);
        return true;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  };
  const send = (x: string): void => void (!closed && !ended && s.write(x));
  const anything = (): string => pick([
    () => dir(`<explore-node seq="${val(String(seq++))}" id="${val(pick([...nodes]))}"/>`),
    () => dir(`<add-node seq="${val(String(seq++))}" parent="${val('0')}" type="${val(pick(['InfText', 'InfSubdirectory', 'InfChat', 'Foo']))}" name="${val(`h${i}-${rnd(4)}`)}">${pick(['<subscribe/>', '', '<sync-in/>', '<subscribe/><sync-in/>'])}</add-node>`),
    () => dir(`<add-node seq="${seq++}" parent="0" type="InfText" name="${'n'.repeat(250 + rnd(20))}"/>`),
    () => dir(`<remove-node seq="${val(String(seq++))}" id="${pick(['abc', '-1', '', '99999', ...nodes])}"/>`),
    () => dir(`<subscribe-session seq="${val(String(seq++))}" id="${val(pick([...nodes]))}"/>`),
    () => dir(`<subscribe-ack id="${val(pick([...nodes]))}"/>`),
    () => dir(`<subscribe-nack id="${val(pick([...nodes]))}"/>`),
    () => dir(`<save-session seq="${val(String(seq++))}" id="${val(String(docId))}"/>`),
    () => dir(`<subscribe-chat seq="${val(String(seq++))}"/>`),
    () => dir(`<query-acl seq="${val(String(seq++))}" id="${val('0')}"/>`),
    () => dir(`<set-acl seq="${val(String(seq++))}" id="${val('0')}"><sheet account="${val('default')}" can-remove-node="${val('no')}"/></set-acl>`),
    () => dir(`<create-acl-account seq="${val(String(seq++))}">garbage</create-acl-account>`),
    () => g(session, `<user-status-change id="${val(pick([...users, '1']))}" status="${val(pick(['active', 'inactive', 'bogus']))}"/>`),
    () => g(session, `<user-color-change id="${val(pick([...users, '1']))}" hue="${val('0.3')}"/>`),
    () => g(session, `<sync-begin num-messages="${pos()}"/>`),
    () => g(session, `<sync-request user="${val('1')}" time=""><insert-caret pos="0">x</insert-caret></sync-request>`),
    () => g(session, '<sync-ack/>'),
    () => g('InfChat', `<message user="${val('1')}" type="${val('normal')}">${pick(TEXTS)}</message>`),
    () => g(pick(['InfSession_999', 'x', 'InfChat']), `<request user="1" time=""><no-op/></request>`),
    () => g(session, `<request user="${val(pick([...users, '1']))}" time=""><split><insert-caret pos="0">a</insert-caret><delete-caret pos="0" len="1"/></split></request>`),
  ])();
  const request = (): string => {
    const body = pick([
      () => `<insert-caret pos="${pos()}">${pick(TEXTS)}</insert-caret>`,
      () => `<delete-caret pos="${pos()}" len="${val(String(1 + rnd(4)))}"/>`,
      () => '<undo-caret/>', () => '<redo-caret/>', () => '<no-op/>',
      () => `<move caret="${pos()}" selection="${pos()}"/>`,
    ])();
    const num = rnd(10) === 0 ? ` num="${val(String(1 + rnd(3)))}"` : '';
    const user = users.size > 0 && rnd(10) > 0 ? pick([...users]) : pick(WEIRD);
    return g(session, `<request user="${user}" time="${rnd(10) === 0 ? pick(WEIRD) : ''}"${num}>${body}</request>`);
  };
  const structural = (m: string): string => pick([
    () => m.replace(/<\/group>$/, '<extra a="1"/></group>'),
    () => m.replace(' publisher="you"', ''),
    () => `<group name="InfDirectory">${'<a>'.repeat(100 + rnd(100))}${'</a>'.repeat(100)}</group>`,
    () => m.slice(0, rnd(m.length)),
    () => m.replace('<group', '<iq'),
  ])();

  const run = async (): Promise<void> => {
    send(HEADER);
    await wait('</stream:features>');
    send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await wait('<challenge');
    send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from(`hostile${i}`).toString('base64')}</response>`);
    await wait('<success');
    send(HEADER);
    await wait('</welcome></group>');
    send(dir(`<explore-node seq="${seq++}" id="0"/>`));
    send(dir(`<subscribe-session seq="${seq++}" id="${docId}"/>`));
    await wait('<subscribe-session group=');
    send(dir(`<subscribe-ack id="${docId}"/>`));
    await wait('<sync-end/>');
    send(g(session, '<sync-ack/>'));
    send(g(session, `<user-join seq="${seq++}" name="hostile${i}" status="active" time="" caret="0" selection="0" hue="0.5"/>`));
    for (let step = 0; step < steps && !closed && !ended; step++) {
      let m = rnd(100) < 45 ? request() : anything();
      // Now and then something that ends the stream (bad-format, policy-violation): rarely, so
      // that most clients stay long enough to do harm.
      if (rnd(200) === 0) m = structural(m);
      send(m);
      if (rnd(3) === 0) await new Promise((r) => setTimeout(r, rnd(3)));
    }
  };
  return {
    done: run(),
    closedByServer: () => closed && !ended,
    end() {
      ended = true;
      if (!closed) s.end('</stream:stream>');
    },
  };
}

describe('tandemd under hostile clients (seeded wire fuzzing)', function () {
  this.timeout(60_000);
  let root: string;
  let server: TandemServer | undefined;
  let tcp: { close(): Promise<void>; address: { port: number } } | undefined;
  const log: string[] = [];

  async function start(): Promise<number> {
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'fuzz', log: (l) => void log.push(l) });
    tcp = await listenTcp(server, { port: 0, host: '127.0.0.1' });
    return tcp.address.port;
  }
  async function stop(): Promise<void> {
    await tcp?.close();
    await server?.close();
    tcp = undefined;
    server = undefined;
  }
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-fuzz-'));
    log.length = 0;
  });
  afterEach(async () => {
    await stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('answers or closes every hostile client, never fails itself, and the honest clients keep the server\'s text through a restart', async () => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const port = await start();
    const keeper = await connect({ host: '127.0.0.1', port, user: 'keeper', tls: false });
    const watcher = await connect({ host: '127.0.0.1', port, user: 'watcher', tls: false });
    const kept = await keeper.open('/shared', { user: 'keeper', create: true });
    await kept.insert(0, 'honest text 😀\n');
    const watched = await watcher.open('/shared');
    const node = (await keeper.browse('/')).find((n) => n.name === 'shared')!;

    const clients = Array.from({ length: 6 }, (_, i) => hostile(port, i, node.id, 250, rnd));
    // The honest user types meanwhile, at positions inside its view.
    const typing = (async () => {
      for (let k = 0; k < 40; k++) {
        const at = rnd(kept.characters + 1);
        if (rnd(3) === 0 && kept.characters > 0) await kept.delete(Math.min(at, kept.characters - 1), 1);
        else await kept.insert(at, pick(['k', 'é', '👍🏽', '\n']));
        await new Promise((r) => setTimeout(r, rnd(15)));
      }
    })();
    await Promise.all([...clients.map((c) => c.done), typing]);
    await kept.flush();

    // Everyone still subscribed converges on the server's text.
    const serverText = (): string | undefined => server!.sessionText(node.id);
    for (let t = 0; t < 400 && !(serverText() === kept.text && kept.text === watched.text); t++) await new Promise((r) => setTimeout(r, 10));
    expect(kept.text, `seed ${seed}`).to.equal(serverText());
    expect(watched.text, `seed ${seed}`).to.equal(serverText());
    const closedByServer = clients.filter((c) => c.closedByServer()).length;
    // A newcomer is served, and reads the same text.
    const late = await connect({ host: '127.0.0.1', port, user: 'late', tls: false });
    const lateDoc = await late.open('/shared');
    expect(lateDoc.text, `seed ${seed}`).to.equal(serverText());
    const final = serverText()!;
    for (const c of clients) c.end();
    await late.close();
    await watcher.close();
    await keeper.close();
    expect(log.filter(serverFault), `seed ${seed}`).to.deep.equal([]);
    // Everything that was said is on disk: a new server reads the same text.
    await stop();
    const port2 = await start();
    const again = await connect({ host: '127.0.0.1', port: port2, user: 'again', tls: false });
    expect((await again.open('/shared')).text, `seed ${seed}`).to.equal(final);
    await again.close();
    console.log(`      ${closedByServer} of 6 hostile clients closed by the server; final text ${[...final].length} code points`);
  });
});
