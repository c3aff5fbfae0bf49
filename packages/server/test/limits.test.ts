// The hard limits (src/limits.ts, docs/server.md "Limits") over in-memory pairs: each limit is hit
// and answered as documented, and the other connections and session members carry on.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plain } from '../src/auth.js';
import type { TransportInfo } from '../src/connection/connection.js';
import { type ServerLimits, ThrottledLog, codePointLength, isLoopback } from '../src/limits.js';
import type { SessionInfo } from '../src/plugins/types.js';
import { type ServerOptions, type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { HEADER, type PairClient, dir, group, login as wireLogin, pair } from './wire.js';

const STREAM_ERROR = (condition: string): string =>
  `<stream:error><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>`;

type Client = PairClient;

/** Logs in and returns the welcome's sequence-id. */
async function login(c: Client, name = 'YWxpY2U='): Promise<string> {
  return /sequence-id="(\d+)"/.exec(await wireLogin(c, name))![1]!;
}

/** A logged-in client that explored the root. */
async function explorer(server: TandemServer, transport: TransportInfo = {}): Promise<Client & { seqId: string }> {
  const c = pair(server, transport);
  const seqId = await login(c);
  c.send(dir('<explore-node seq="0" id="0"/>'));
  await c.next(`<explore-end seq="${seqId}/0"/></group>`);
  return Object.assign(c, { seqId });
}

/** `a` creates document `name` (subscribed, no sync) and joins `user` in it; returns the node id. */
async function createDocument(a: Client & { seqId: string }, name: string, user: string, seq: number): Promise<number> {
  a.send(dir(`<add-node seq="${seq}" parent="0" type="InfText" name="${name}"><subscribe/></add-node>`));
  const reply = await a.next('</group>');
  const id = Number(/ id="(\d+)"/.exec(reply)![1]);
  a.send(dir(`<subscribe-ack id="${id}"/>`));
  a.send(group(`InfSession_${id}`, `<user-join seq="0" name="${user}" status="active" time="" caret="0" hue="0.25"/>`));
  await a.next(`<user-join id="1" name="${user}"`);
  await a.next('</group>');
  return id;
}

/** `b` subscribes to document `id`, takes the synchronisation and acks it. */
async function subscribe(b: Client & { seqId: string }, id: number, seq: number): Promise<void> {
  b.send(dir(`<subscribe-session seq="${seq}" id="${id}"/>`));
  await b.next(`seq="${b.seqId}/${seq}"/></group>`);
  b.send(dir(`<subscribe-ack id="${id}"/>`));
  await b.next('<sync-end/></group>');
  b.send(group(`InfSession_${id}`, '<sync-ack/>'));
}

/**
 * alice (user 1) creates document "doc" through `a`, `b` subscribes to it and joins bob (user 2);
 * returns the clients, the node id and bob's join as `b` received it.
 */
async function aliceAndBob(server: TandemServer): Promise<{ a: Client & { seqId: string }; b: Client & { seqId: string }; id: number; join: string }> {
  const a = await explorer(server);
  const b = await explorer(server);
  const id = await createDocument(a, 'doc', 'alice', 1);
  await subscribe(b, id, 1);
  b.send(group(`InfSession_${id}`, '<user-join seq="0" name="bob" status="active" time="" caret="0" hue="0.5"/>'));
  const join = await b.next('</group>');
  return { a, b, id, join };
}

describe('limits', () => {
  let root: string;
  let server: TandemServer | undefined;
  let log: string[];

  async function start(limits: Partial<ServerLimits>, more: Partial<ServerOptions> = {}): Promise<TandemServer> {
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', limits, log: (l) => void log.push(l), ...more });
    return server;
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-limits-'));
    log = [];
  });
  afterEach(async () => {
    await server?.close().catch(() => undefined);
    server = undefined;
    await rm(root, { recursive: true, force: true });
  });

  describe('connections', () => {
    it('closes a connection past max-connections at once, logs it, and serves the others', async () => {
      const s = await start({ maxConnections: 2 });
      const a = await explorer(s, { address: '192.0.2.1' });
      const b = await explorer(s, { address: '192.0.2.2' });
      const c = pair(s, { address: '192.0.2.3', remote: '192.0.2.3:5000' });
      await c.closed;
      expect(c.pending).to.equal('');
      expect(log.some((l) => l.startsWith('Refused connection from 192.0.2.3:5000: 2 connections are open'))).to.equal(true);
      // The open ones are unaffected.
      a.send(dir('<add-node seq="1" parent="0" type="InfSubdirectory" name="d"/>'));
      expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="d" type="InfSubdirectory" seq="1/1"/></group>');
      // A slot that frees up is given to the next connection.
      a.send('</stream:stream>');
      await a.closed;
      const d = pair(s, { address: '192.0.2.3' });
      expect(await login(d)).to.match(/^\d+$/);
      expect(s.connectionCount).to.equal(2);
    });

    it('counts connections per remote address (IPv4-mapped IPv6 included) and exempts loopback', async () => {
      const s = await start({ maxConnectionsPerAddress: 2 });
      const a = pair(s, { address: '198.51.100.7' });
      pair(s, { address: '::ffff:198.51.100.7' });
      const third = pair(s, { address: '198.51.100.7' });
      await third.closed;
      expect(log.filter((l) => l.includes('connections from this address are open'))).to.have.length(1);
      // Another address, and loopback beyond the per-address limit, are let in.
      const other = pair(s, { address: '198.51.100.8' });
      const locals = [pair(s, { address: '127.0.0.1' }), pair(s, { address: '::1' }), pair(s, { address: '::ffff:127.0.0.1' })];
      for (const c of [a, other, ...locals]) await login(c);
      expect(s.connectionCount).to.equal(6);
    });

    it('closes a connection that does not finish the handshake: stream error once the stream is open, silence before', async () => {
      const s = await start({ handshakeTimeoutMs: 1000 });
      // Opened first, so its deadline passes before the others' (timers of equal length fire in order).
      const loggedIn = pair(s);
      const stalled = pair(s, { remote: 'stalled' });
      const silent = pair(s, { remote: 'silent' });
      await login(loggedIn);
      stalled.send(HEADER);
      await stalled.next('</stream:features>');
      // connection-timeout inside the open (unauthenticated) stream, then the close.
      expect(await stalled.next('</stream:stream>')).to.equal(STREAM_ERROR('connection-timeout'));
      await stalled.closed;
      // Before any header there is no stream to report into: closed without a byte.
      await silent.closed;
      expect(silent.pending).to.equal('');
      expect(log).to.include('Closing stalled: it did not log in within 1 s (connection-timeout)');
      // The client that logged in in time is past the same deadline and still served.
      expect(loggedIn.isClosed).to.equal(false);
      loggedIn.send(dir('<explore-node seq="0" id="0"/>'));
      expect(await loggedIn.next('</group>')).to.include('<explore-begin total="0"');
    });

    it('closes a connection after max-auth-failures failed passwords with policy-violation; fewer may retry', async () => {
      const s = await start({ maxAuthFailures: 3, authFailureDelayMs: 0 }, { auth: plain({ password: 'secret' }) });
      const attempt = async (c: Client, password: string): Promise<string> => {
        c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"/>');
        await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
        c.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from(`\0mallory\0${password}`).toString('base64')}</response>`);
        return c.next(/<\/failure>|<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);
      };
      const failure = '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>';
      const m = pair(s, { remote: 'mallory' });
      m.send(HEADER);
      await m.next('</stream:features>');
      expect(await attempt(m, 'a')).to.equal(failure);
      expect(await attempt(m, 'b')).to.equal(failure);
      expect(await attempt(m, 'c')).to.equal(failure);
      expect(await m.next('</stream:stream>')).to.equal(STREAM_ERROR('policy-violation'));
      await m.closed;
      expect(log).to.include('Closing mallory: 3 failed login attempts (policy-violation)');
      // Two failures and the right password: logged in, as infinoted allows.
      const alice = pair(s);
      alice.send(HEADER);
      await alice.next('</stream:features>');
      expect(await attempt(alice, 'wrong')).to.equal(failure);
      expect(await attempt(alice, 'wrong again')).to.equal(failure);
      expect(await attempt(alice, 'secret')).to.equal('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    });

    it('holds the answer to a failed password back for auth-failure-delay (here past the login deadline)', async () => {
      // A delay longer than the handshake deadline: the failure is never sent, the deadline ends
      // the stream mid-exchange (with <abort/>, as inf_xmpp_connection_terminate does).
      const s = await start({ authFailureDelayMs: 600_000, handshakeTimeoutMs: 1000 }, { auth: plain({ password: 'secret' }) });
      const c = pair(s);
      c.send(HEADER);
      await c.next('</stream:features>');
      c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"/>');
      await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
      c.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from('\0a\0nope').toString('base64')}</response>`);
      expect(await c.next('</stream:stream>')).to.equal('<stream:error><connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error><abort xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/></stream:stream>');
      await c.closed;
    });
  });

  describe('sessions', () => {
    it('refuses a user past max-users-per-session with INF_USER_ERROR 6; a known name rejoins; edits still relay', async () => {
      const s = await start({ maxUsersPerSession: 2 });
      const a = await explorer(s);
      const b = await explorer(s);
      const id = await createDocument(a, 'doc', 'alice', 1);
      await subscribe(b, id, 1);
      b.send(group(`InfSession_${id}`, '<user-join seq="0" name="bob" status="active" time="" caret="0" hue="0.5"/>'));
      await b.next(`<user-join id="2" name="bob"`);
      await b.next('</group>');
      await a.next('</group>');
      b.send(group(`InfSession_${id}`, '<user-join seq="1" name="carol" status="active" time="" caret="0" hue="0.5"/>'));
      expect(await b.next('</group>')).to.equal(`<group name="InfSession_${id}"><request-failed code="6" domain="INF_USER_ERROR" seq="${b.seqId}/1">The session has 2 users, the most the server allows</request-failed></group>`);
      expect(log.some((l) => l.includes('refused user "carol"') && l.includes('max-users-per-session'))).to.equal(true);
      // alice's edit reaches bob; carol was never announced to alice.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">hi</insert-caret></request>'));
      expect(await b.next('</group>')).to.equal(`<group name="InfSession_${id}"><request user="1" time=""><insert-caret pos="0">hi</insert-caret></request></group>`);
      expect(a.pending).to.equal('');
      // bob leaves and comes back under his name: a rejoin, not a new user.
      b.send(group(`InfSession_${id}`, '<user-status-change id="2" status="unavailable"/>'));
      await a.next('</group>');
      b.send(group(`InfSession_${id}`, '<user-join seq="2" name="bob" status="active" time="1:1" caret="0" hue="0.5"/>'));
      expect(await b.next('</group>')).to.include(`<user-rejoin id="2" name="bob" status="active" time="1:1"`);
    });

    it('applies a changed limit (configuration reload) to running sessions at once', async () => {
      const s = await start({ maxUsersPerSession: 1 });
      const a = await explorer(s);
      const id = await createDocument(a, 'doc', 'alice', 1);
      a.send(group(`InfSession_${id}`, '<user-join seq="1" name="bob" status="active" time="" caret="0"/>'));
      expect(await a.next('</group>')).to.include('<request-failed code="6" domain="INF_USER_ERROR"');
      s.reconfigure({ limits: { maxUsersPerSession: 2 } });
      a.send(group(`InfSession_${id}`, '<user-join seq="2" name="bob" status="active" time="" caret="0"/>'));
      expect(await a.next('</group>')).to.include('<user-join id="2" name="bob"');
    });

    it('refuses users past the limit in the server-wide chat too', async () => {
      const s = await start({ maxUsersPerSession: 1 });
      const a = await explorer(s);
      a.send(dir('<subscribe-chat seq="1"/>'));
      await a.next('</group>');
      a.send(dir('<subscribe-ack/>'));
      await a.next('<sync-end/></group>');
      a.send(group('InfChat', '<sync-ack/>'));
      a.send(group('InfChat', '<user-join seq="0" name="one" status="active"/>'));
      expect(await a.next('</group>')).to.include('<user-join id="1" name="one" status="active"');
      a.send(group('InfChat', '<user-join seq="1" name="two" status="active"/>'));
      expect(await a.next('</group>')).to.equal(`<group name="InfChat"><request-failed code="6" domain="INF_USER_ERROR" seq="${a.seqId}/1">The session has 1 users, the most the server allows</request-failed></group>`);
    });

    it('refuses an insert past max-document-length (code points) to the sender alone; the session goes on', async () => {
      const s = await start({ maxDocumentLength: 10 });
      const { a, b, id } = await aliceAndBob(s);
      await a.next('</group>');
      // Five code points, six UTF-16 units.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">hell😀</insert-caret></request>'));
      await b.next('</group>');
      b.send(group(`InfSession_${id}`, '<request user="2" time="1:1"><insert-caret pos="5">123456</insert-caret></request>'));
      expect(await b.next('</group>')).to.match(/<invalid-request request="1:1" state="1:1" user="2"><reason>Failed to apply request "1:1" from user "bob" at state "1:1": The document would be longer than the server allows \(10 characters\)<\/reason><\/invalid-request><\/group>$/);
      expect(a.pending).to.equal('');
      // Exactly up to the limit is fine, and reaches the other member.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="5">12345</insert-caret></request>'));
      expect(await b.next('</group>')).to.include('<insert-caret pos="5">12345</insert-caret>');
      expect(s.sessionText(id)).to.equal('hell😀12345');
      expect(codePointLength(s.sessionText(id)!)).to.equal(10);
    });

    it('unsubscribes the sender of a request that needs more than max-translation-steps; the others never see it and go on', async () => {
      const s = await start({ maxTranslationSteps: 2 });
      const { a, b, id } = await aliceAndBob(s);
      await a.next('</group>');
      for (const c of ['x', 'y', 'z']) a.send(group(`InfSession_${id}`, `<request user="1" time=""><insert-caret pos="0">${c}</insert-caret></request>`));
      for (let i = 0; i < 3; i++) await b.next('</group>');
      // bob has not taken alice's three into account: his insert is transformed against each of
      // them, three steps.
      b.send(group(`InfSession_${id}`, '<request user="2" time=""><insert-caret pos="0">B</insert-caret></request>'));
      expect(await b.next('</group>')).to.equal(`<group name="InfSession_${id}"><session-close/></group>`);
      expect(await a.next('</group>')).to.match(/<user-status-change id="2" status="unavailable"\/>/);
      expect(s.sessionText(id)).to.equal('zyx');
      expect(log.join('\n')).to.match(/request "" of user "bob" \(id=2\) via local refused: .*at state "1:3": Translating the request to the current state takes more than 2 steps; the connection has been unsubscribed \(max-translation-steps\)/);
      // alice goes on; one step (a request at the current state takes none) is within the limit.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="3">!</insert-caret></request>'));
      await new Promise((r) => setTimeout(r, 50));
      expect(s.sessionText(id)).to.equal('zyx!');
      expect(b.pending).to.equal('');
    });

    it('batches relays that follow each other within relay-batch; the answer to a request and anything direct go at once and take them along in order', async () => {
      const s = await start({ relayBatchMs: 60_000 });
      // b was written to a moment ago (the synchronisation); the answer to its join is not held.
      const { a, b, id, join } = await aliceAndBob(s);
      expect(join).to.include('<user-join id="2" name="bob"');
      // The first relay after a quiet spell goes at once...
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">one</insert-caret></request>'));
      expect(await b.next('</group>')).to.include('<insert-caret pos="0">one</insert-caret>');
      // ...relays that follow it closely wait.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="3">two</insert-caret></request>'));
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="6">three</insert-caret></request>'));
      await new Promise((r) => setTimeout(r, 300));
      expect(s.sessionText(id)).to.equal('onetwothree');
      // Executed, and held for b (its last write was under a minute ago)...
      expect(b.pending).to.equal('');
      // ...until something is written to b directly (here: the root is explored already, an
      // error): then everything goes, in order.
      b.send(dir('<explore-node seq="2" id="0"/>'));
      const out = await b.next('</request-failed></group>');
      const two = out.indexOf('<insert-caret pos="3">two</insert-caret>');
      const three = out.indexOf('<insert-caret pos="6">three</insert-caret>');
      expect(two, out).to.be.greaterThan(-1);
      expect(three, out).to.be.greaterThan(two);
      expect(out.indexOf(`<request-failed code="12" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/2">`), out).to.be.greaterThan(three);
    });

    it('sends held relays by themselves once relay-batch has passed since the last write', async () => {
      const s = await start({ relayBatchMs: 200 });
      const { a, b, id } = await aliceAndBob(s);
      for (const word of ['a', 'b', 'c']) a.send(group(`InfSession_${id}`, `<request user="1" time=""><insert-caret pos="0">${word}</insert-caret></request>`));
      const got = await b.next('<insert-caret pos="0">c</insert-caret></request></group>');
      expect([...got.matchAll(/<insert-caret pos="0">(.)</g)].map((m) => m[1])).to.deep.equal(['a', 'b', 'c']);
      expect(s.sessionText(id)).to.equal('cba');
    });

    it('refuses a repetition count on anything but undo/redo, and more undos than the log holds, without executing any', async () => {
      const s = await start({});
      const a = await explorer(s);
      const b = await explorer(s);
      const id = await createDocument(a, 'doc', 'alice', 1);
      await subscribe(b, id, 1);
      a.send(group(`InfSession_${id}`, '<request user="1" time="" num="4000000000"><insert-caret pos="0">x</insert-caret></request>'));
      expect(await a.next('</group>')).to.include('A repetition count (num="4000000000") is only accepted for undo and redo');
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">ab</insert-caret></request>'));
      await b.next('</group>');
      a.send(group(`InfSession_${id}`, '<request user="1" time="" num="4000000000"><undo-caret/></request>'));
      expect(await a.next('</group>')).to.include('Cannot undo 4000000000 times: the user has 1 requests in the log');
      expect(s.sessionText(id)).to.equal('ab');
      // An undo within the log works and is relayed.
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><undo-caret/></request>'));
      expect(await b.next('</group>')).to.include('<undo-caret/>');
      expect(s.sessionText(id)).to.equal('');
    });

    it('relays the undos of a num="K" request that ran before one failed, with that count, so the others stay with the server', async () => {
      const s = await start({});
      const a = await explorer(s);
      const b = await explorer(s);
      const id = await createDocument(a, 'doc', 'alice', 1);
      await subscribe(b, id, 1);
      const send = (xml: string): void => a.send(group(`InfSession_${id}`, xml));
      send('<request user="1" time=""><insert-caret pos="0">a</insert-caret></request>');
      send('<request user="1" time=""><insert-caret pos="1">b</insert-caret></request>');
      send('<request user="1" time=""><undo-caret/></request>');
      for (let i = 0; i < 3; i++) await b.next('</group>');
      expect(s.sessionText(id)).to.equal('a');
      // Three requests in the log, so num="2" passes the limit; the first undo takes "a" away,
      // the second finds nothing left to undo.
      send('<request user="1" time="" num="2"><undo-caret/></request>');
      expect(await a.next('</group>')).to.match(/<invalid-request[^>]*>.*no request to be undone/s);
      const relayed = await b.next('</group>');
      expect(relayed).to.include('<request user="1" time=""><undo-caret/></request>');
      expect(relayed).not.to.include('num=');
      expect(s.sessionText(id)).to.equal('');
    });
  });

  describe('directory', () => {
    async function syncIn(a: Client & { seqId: string }, seq: number, name: string, messages: string[], announced = messages.length): Promise<{ id: number; reply: string }> {
      a.send(dir(`<add-node seq="${seq}" parent="0" type="InfText" name="${name}"><sync-in/></add-node>`));
      const id = Number(/<sync-in id="(\d+)"/.exec(await a.next('</group>'))![1]);
      a.send(dir(`<subscribe-ack id="${id}"/>`));
      a.send(group(`InfSession_SyncIn_${id}`, `<sync-begin num-messages="${announced}"/>`));
      for (const m of messages) a.send(group(`InfSession_SyncIn_${id}`, m));
      a.send(group(`InfSession_SyncIn_${id}`, '<sync-end/>'));
      return { id, reply: await a.next('</group>') };
    }
    const user = (id: number, name: string) => `<sync-user id="${id}" name="${name}" status="unavailable" time="" caret="0" selection="0" hue="0.5"/>`;

    it('fails a sync-in that announces more than max-sync-in-messages, at once, and announces no node', async () => {
      const s = await start({ maxSyncInMessages: 3 });
      const a = await explorer(s);
      const b = await explorer(s);
      const r = await syncIn(a, 1, 'big', [user(1, 'u')], 4);
      expect(r.reply).to.equal(`<group name="InfSession_SyncIn_${r.id}"><sync-error code="33" domain="INF_DIRECTORY_ERROR">The synchronisation announces 4 messages, more than the server accepts (3)</sync-error></group>`);
      // Within the limit it works, and the other explorer learns of that node only.
      const ok = await syncIn(a, 2, 'small', [user(1, 'u'), '<sync-segment author="1">text</sync-segment>']);
      expect(ok.reply).to.equal(`<group name="InfSession_SyncIn_${ok.id}"><sync-ack/></group>`);
      expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><add-node id="${ok.id}" parent="0" name="small" type="InfText"/></group>`);
      expect(b.pending).to.equal('');
    });

    it('fails a sync-in past max-sync-in-bytes, max-users-per-session or max-document-length with a sync-error', async () => {
      const s = await start({ maxSyncInBytes: 2000, maxUsersPerSession: 2, maxDocumentLength: 8 });
      const a = await explorer(s);
      const bytes = await syncIn(a, 1, 'bytes', [user(1, 'u'), `<sync-segment author="1">${'x'.repeat(2500)}</sync-segment>`]);
      expect(bytes.reply).to.include('<sync-error code="33" domain="INF_DIRECTORY_ERROR">The synchronisation is larger than the server accepts (2000 bytes)</sync-error>');
      const users = await syncIn(a, 2, 'users', [user(1, 'u'), user(2, 'v'), user(3, 'w')]);
      expect(users.reply).to.include('<sync-error code="33" domain="INF_DIRECTORY_ERROR">The document has more users than a session on this server may have (2)</sync-error>');
      const length = await syncIn(a, 3, 'length', [user(1, 'u'), '<sync-segment author="1">12345</sync-segment>', '<sync-segment author="0">6789</sync-segment>']);
      expect(length.reply).to.include('<sync-error code="33" domain="INF_DIRECTORY_ERROR">The document is longer than the server accepts (8 characters)</sync-error>');
      // The failed uploads gave their bytes back: an upload within the limits still works.
      const ok = await syncIn(a, 4, 'ok', [user(1, 'u'), user(2, 'v'), '<sync-segment author="1">1234</sync-segment>', '<sync-segment author="2">5678</sync-segment>']);
      expect(ok.reply).to.equal(`<group name="InfSession_SyncIn_${ok.id}"><sync-ack/></group>`);
      expect(s.sessionText(ok.id)).to.equal('12345678');
    });

    it('refuses add-node past max-nodes with INF_DIRECTORY_ERROR 33, counting nodes being created', async () => {
      const s = await start({ maxNodes: 3 });
      const a = await explorer(s);
      const b = await explorer(s);
      a.send(dir('<add-node seq="1" parent="0" type="InfSubdirectory" name="one"/>'));
      await a.next('</group>');
      await b.next('</group>');
      // A document being created (subscribe, not yet acked) takes the last place.
      a.send(dir('<add-node seq="2" parent="0" type="InfText" name="two"><subscribe/></add-node>'));
      await a.next('</group>');
      b.send(dir('<add-node seq="1" parent="0" type="InfText" name="three"/>'));
      expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="33" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/1">The server holds 3 nodes, the most it allows</request-failed></group>`);
      expect(log).to.include('Refused a new node: the directory has 3 nodes, the limit (max-nodes)');
      // Removing a node makes room again.
      a.send(dir('<remove-node seq="3" id="1"/>'));
      await b.next('</group>');
      b.send(dir('<add-node seq="2" parent="0" type="InfText" name="three"/>'));
      expect(await b.next('</group>')).to.match(/<add-node id="\d+" parent="0" name="three" type="InfText" seq="\d+\/2"\/>/);
    });

    it('refuses subscriptions past max-subscriptions-per-connection, pending ones included; others may still subscribe', async () => {
      const s = await start({ maxSubscriptionsPerConnection: 1 });
      const a = await explorer(s);
      const b = await explorer(s);
      const first = await createDocument(a, 'first', 'alice', 1);
      a.send(dir('<add-node seq="2" parent="0" type="InfText" name="second"/>'));
      const second = Number(/ id="(\d+)"/.exec(await a.next('</group>'))![1]);
      await b.next('</group>');
      await b.next('</group>');
      a.send(dir(`<subscribe-session seq="3" id="${second}"/>`));
      const refused = `<request-failed code="33" domain="INF_DIRECTORY_ERROR" seq="${a.seqId}/3">This connection has 1 subscriptions, the most the server allows</request-failed>`;
      expect(await a.next('</group>')).to.equal(`<group name="InfDirectory">${refused}</group>`);
      a.send(dir('<add-node seq="4" parent="0" type="InfText" name="third"><sync-in/></add-node>'));
      expect(await a.next('</group>')).to.include('code="33" domain="INF_DIRECTORY_ERROR" seq="1/4"');
      // b subscribes to both; after a unsubscribes, a may subscribe again.
      await subscribe(b, first, 1);
      b.send(dir(`<subscribe-session seq="2" id="${second}"/>`));
      expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="33" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/2">This connection has 1 subscriptions, the most the server allows</request-failed></group>`);
      a.send(group(`InfSession_${first}`, '<session-unsubscribe/>'));
      await b.next('</group>');
      a.send(dir(`<subscribe-session seq="5" id="${second}"/>`));
      expect(await a.next('</group>')).to.include(`<subscribe-session group="InfSession_${second}" method="central" id="${second}" seq="${a.seqId}/5"/>`);
    });
  });

  describe('saving', () => {
    /** Storage whose writes of one document fail. */
    class FailingStorage extends FilesystemStorage {
      failing = new Set<string>();
      override async writeText(path: readonly string[], doc: Parameters<FilesystemStorage['writeText']>[1]): Promise<void> {
        if (this.failing.has(path.join('/'))) throw new Error('No space left on device');
        return super.writeText(path, doc);
      }
    }

    it('saveAll saves every document when one fails, reports each failure, and leaves the failed one modified', async () => {
      const storage = new FailingStorage(root);
      const infos = new Map<string, SessionInfo>();
      const s = await start({}, { storage, plugins: [{ name: 'probe', sessionAdded: (i) => void infos.set(i.path, i) }] });
      const a = await explorer(s);
      const ids: number[] = [];
      for (const [i, name] of ['a', 'b', 'c'].entries()) {
        const id = await createDocument(a, name, `user${i}`, i + 1);
        a.send(group(`InfSession_${id}`, `<request user="1" time=""><insert-caret pos="0">text of ${name}</insert-caret></request>`));
        ids.push(id);
      }
      a.send(dir('<explore-node seq="9" id="0"/>'));
      await a.next('</group>');
      storage.failing.add('a');
      storage.failing.add('b');
      let error: unknown;
      await s.saveAll().catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).name).to.equal('SaveAllError');
      expect((error as Error).message).to.equal('2 document(s) could not be saved: /a (No space left on device); /b (No space left on device)');
      expect(log).to.include.members(['Could not save /a: No space left on device', 'Could not save /b: No space left on device']);
      // The document after the failures was written, and only it is no longer modified.
      expect(await readFile(join(root, 'c.InfText'), 'utf8')).to.include('text of c');
      expect([infos.get('/a')!.modified, infos.get('/b')!.modified, infos.get('/c')!.modified]).to.deep.equal([true, true, false]);
      // Once the disk works again the next save writes it.
      storage.failing.clear();
      await s.saveAll();
      expect(await readFile(join(root, 'a.InfText'), 'utf8')).to.include('text of a');
      expect(infos.get('/a')!.modified).to.equal(false);
    });

    it('close() closes every connection even when a save fails, then reports the failure', async () => {
      const storage = new FailingStorage(root);
      const s = await start({}, { storage });
      const a = await explorer(s);
      const id = await createDocument(a, 'doc', 'alice', 1);
      a.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">x</insert-caret></request>'));
      a.send(dir('<explore-node seq="9" id="0"/>'));
      await a.next('</group>');
      storage.failing.add('doc');
      let error: unknown;
      await s.close().catch((err: unknown) => (error = err));
      expect((error as Error).message).to.equal('1 document(s) could not be saved: /doc (No space left on device)');
      await a.closed;
      expect(s.connectionCount).to.equal(0);
    });
  });
});

describe('limit helpers', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('a😀b')).to.equal(3);
    expect(codePointLength('\ud83d')).to.equal(1); // a lone surrogate is one
    expect(codePointLength('')).to.equal(0);
  });

  it('treats 127.0.0.0/8 and ::1 (also IPv4-mapped) as loopback, nothing else', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopback)).to.deep.equal([true, true, true, true]);
    expect(['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', '::'].map(isLoopback)).to.deep.equal([false, false, false, false]);
  });

  it('writes at most one refusal line per interval and counts the ones left out', () => {
    const lines: string[] = [];
    let now = 0;
    const t = new ThrottledLog((l) => void lines.push(l), 1000, () => now);
    t.write('one');
    t.write('two');
    t.write('three');
    now = 1000;
    t.write('four');
    expect(lines).to.deep.equal(['one', 'four (and 2 more refused since the last report)']);
  });
});
