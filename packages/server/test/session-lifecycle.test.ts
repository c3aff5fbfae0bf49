// Directory and session life cycle over in-memory pairs, with the bytes infinoted 0.7.2 sends
// (capture 01 and protocol.md 3.5, 3.8, 5.2-5.5, 5.8, 7.2): remove-node of a subscribed document
// and of a directory tree, save-session, an idle session saved, unloaded and loaded again,
// user-color-change, a request ahead of the server, a disconnect, and user-rejoin.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { HEADER, dir, group } from './wire.js';

interface Peer {
  /** The welcome's sequence-id: the K of "K/N" replies to this connection. */
  seqId: string;
  send(s: string): void;
  /** Everything received up to and including the first match of `until` (waits up to 2 s). */
  next(until: RegExp | string): Promise<string>;
  /** What arrived and was not yet taken by next(). */
  readonly pending: string;
  /** Drops the transport without a word (no session-unsubscribe, no stream end). */
  disconnect(): void;
  /** The answer to exploring the root at login. */
  explored: string;
}

const session = (id: number, body: string): string => group(`InfSession_${id}`, body);
const base64 = (s: string): string => Buffer.from(s).toString('base64');
const settle = (ms = 40): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens an in-memory connection, logs in anonymously as `name` and explores the root. */
async function connect(server: TandemServer, name: string): Promise<Peer> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverEnd = Duplex.from({ readable: toServer, writable: toClient });
  let buffer = '';
  toClient.on('data', (b: Buffer) => (buffer += b.toString('utf8')));
  server.handle(serverEnd);
  const peer: Peer = {
    seqId: '',
    send: (s) => void (toServer.writable && toServer.write(s)),
    async next(until) {
      for (let i = 0; i < 400; i++) {
        const idx = typeof until === 'string' ? buffer.indexOf(until) : buffer.search(until);
        if (idx >= 0) {
          const len = typeof until === 'string' ? until.length : buffer.match(until)![0].length;
          const out = buffer.slice(0, idx + len);
          buffer = buffer.slice(idx + len);
          return out;
        }
        await settle(5);
      }
      throw new Error(`timed out waiting for ${until}; have: ${buffer}`);
    },
    get pending() {
      return buffer;
    },
    disconnect: () => void serverEnd.destroy(),
    explored: '',
  };
  peer.send(HEADER);
  await peer.next('</stream:features>');
  peer.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  await peer.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
  peer.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${base64(name)}</response>`);
  await peer.next('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
  peer.send(HEADER);
  peer.seqId = /sequence-id="(\d+)"/.exec(await peer.next('</welcome></group>'))![1]!;
  peer.send(dir('<explore-node seq="0" id="0"/>'));
  peer.explored = await peer.next(`<explore-end seq="${peer.seqId}/0"/></group>`);
  return peer;
}

/** `p` adds a node (`<subscribe/>` for documents it keeps open) and returns its id. */
async function addNode(p: Peer, seq: number, parent: number, type: string, name: string, subscribe = false): Promise<number> {
  p.send(dir(`<add-node seq="${seq}" parent="${parent}" type="${type}" name="${name}">${subscribe ? '<subscribe/>' : ''}</add-node>`));
  const reply = await p.next(`seq="${p.seqId}/${seq}"`);
  await p.next('</group>');
  const id = Number(/<add-node id="(\d+)"/.exec(reply)?.[1]);
  expect(id, reply).to.be.a('number').and.not.NaN;
  if (subscribe) p.send(dir(`<subscribe-ack id="${id}"/>`));
  return id;
}

/** `p` joins user `name` into session `id` and returns the user-join it got back. */
async function joinUser(p: Peer, id: number, seq: number, name: string, time = '', hue = '0.25'): Promise<string> {
  p.send(session(id, `<user-join seq="${seq}" name="${name}" status="active" time="${time}" caret="0" hue="${hue}"/>`));
  return p.next('</group>');
}

/** `p` subscribes to session `id`, takes the synchronisation, acks it and returns it. */
async function subscribe(p: Peer, seq: number, id: number): Promise<string> {
  p.send(dir(`<subscribe-session seq="${seq}" id="${id}"/>`));
  expect(await p.next('</group>')).to.equal(`<group name="InfDirectory"><subscribe-session group="InfSession_${id}" method="central" id="${id}" seq="${p.seqId}/${seq}"/></group>`);
  p.send(dir(`<subscribe-ack id="${id}"/>`));
  const sync = await p.next('<sync-end/></group>');
  p.send(session(id, '<sync-ack/>'));
  return sync;
}

/** Waits until `pred` holds (the server works asynchronously), up to 3 s. */
async function eventually(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await pred()) return;
    await settle(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('tandemd directory and session life cycle (in-memory)', function () {
  this.timeout(15000);
  let root: string;
  let server: TandemServer;
  let log: string[];

  async function start(idleUnloadMs = 60_000): Promise<void> {
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', idleUnloadMs, journal: false, log: (l) => void log.push(l) });
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-lifecycle-'));
    log = [];
    await start();
  });
  afterEach(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('remove-node of a subscribed document: session-close to its subscribers first, then remove-node (with the seq) to every explorer', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const c = await connect(server, 'carol');
    const doc = await addNode(a, 1, 0, 'InfText', 'doc', true);
    expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><add-node id="${doc}" parent="0" name="doc" type="InfText"/></group>`);
    await c.next('</group>');
    expect(await joinUser(a, doc, 0, 'alice')).to.contain('<user-join id="1" name="alice"');
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">bye</insert-caret></request>'));
    await subscribe(b, 1, doc);
    await joinUser(b, doc, 2, 'bob');
    await a.next(`seq="${b.seqId}/2"/></group>`);
    expect(existsSync(join(root, 'doc.InfText'))).to.equal(true);

    // b (a subscriber that did not ask) removes it.
    b.send(dir('<remove-node seq="3" id="' + doc + '"/>'));
    const removed = `<group name="InfDirectory"><remove-node id="${doc}" seq="${b.seqId}/3"/></group>`;
    const closed = `<group name="InfSession_${doc}"><session-close/></group>`;
    expect(await b.next(removed)).to.equal(closed + removed);
    expect(await a.next(removed)).to.equal(closed + removed);
    // An explorer that never subscribed gets only the removal, with the requester's seq (capture 01).
    expect(await c.next('</group>')).to.equal(removed);
    expect(existsSync(join(root, 'doc.InfText'))).to.equal(false);
    expect(server.sessionText(doc)).to.equal(undefined);

    // The session is gone: what a former member still sends is dropped, nobody hears of it.
    a.send(session(doc, '<request user="1" time="1:1"><insert-caret pos="0">x</insert-caret></request>'));
    a.send(session(doc, '<user-status-change id="1" status="unavailable"/>'));
    await settle();
    expect([a.pending, b.pending, c.pending]).to.deep.equal(['', '', '']);
    // The id names nothing any more.
    c.send(dir(`<subscribe-session seq="1" id="${doc}"/>`));
    expect(await c.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="4" domain="INF_DIRECTORY_ERROR" seq="${c.seqId}/1">Node does not exist</request-failed></group>`);
    // The name is free again, and the new document is empty.
    const again = await addNode(c, 2, 0, 'InfText', 'doc', true);
    expect(again).to.not.equal(doc);
    await eventually(() => server.sessionText(again) === '', 'the new session');
  });

  it('removes a directory recursively: sessions below it close, one remove-node for the directory, files and ids gone', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const top = await addNode(a, 1, 0, 'InfSubdirectory', 'top');
    await b.next('</group>');
    a.send(dir(`<explore-node seq="2" id="${top}"/>`));
    await a.next(`<explore-end seq="${a.seqId}/2"/></group>`);
    const inner = await addNode(a, 3, top, 'InfSubdirectory', 'inner');
    a.send(dir(`<explore-node seq="4" id="${inner}"/>`));
    await a.next(`<explore-end seq="${a.seqId}/4"/></group>`);
    const deep = await addNode(a, 5, inner, 'InfText', 'deep', true);
    await joinUser(a, deep, 0, 'alice');
    a.send(session(deep, '<request user="1" time=""><insert-caret pos="0">deep text</insert-caret></request>'));
    const flat = await addNode(a, 6, top, 'InfText', 'flat');
    // b explored only the root: it heard of top and nothing below it.
    expect(b.pending).to.equal('');
    await eventually(() => server.sessionText(deep) === 'deep text', 'the edit');
    a.send(dir(`<save-session seq="7" id="${deep}"/>`));
    await a.next(`<saved-session seq="${a.seqId}/7"/></group>`);
    expect(existsSync(join(root, 'top', 'inner', 'deep.InfText'))).to.equal(true);
    expect(existsSync(join(root, 'top', 'flat.InfText'))).to.equal(true);

    b.send(dir(`<remove-node seq="1" id="${top}"/>`));
    const removed = `<group name="InfDirectory"><remove-node id="${top}" seq="${b.seqId}/1"/></group>`;
    expect(await b.next('</group>')).to.equal(removed);
    expect(await a.next(removed)).to.equal(`<group name="InfSession_${deep}"><session-close/></group>` + removed);
    await settle();
    // Only the directory itself is announced: children go with it (infd_directory_node_unlink).
    expect([a.pending, b.pending]).to.deep.equal(['', '']);
    expect(existsSync(join(root, 'top'))).to.equal(false);
    for (const id of [top, inner, deep, flat]) {
      a.send(dir(`<explore-node seq="${10 + id}" id="${id}"/>`));
      expect(await a.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="4" domain="INF_DIRECTORY_ERROR" seq="${a.seqId}/${10 + id}">Node does not exist</request-failed></group>`);
    }
    expect(server.sessionText(deep)).to.equal(undefined);
    const c = await connect(server, 'carol');
    expect(c.explored).to.equal(`<group name="InfDirectory"><explore-begin total="0" seq="${c.seqId}/0"/></group><group name="InfDirectory"><explore-end seq="${c.seqId}/0"/></group>`);
  });

  it('save-session: saved-session to the requester alone, the file holds the text and its authors; refused for a non-subscriber', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const doc = await addNode(a, 1, 0, 'InfText', 'saved', true);
    await b.next('</group>');
    await joinUser(a, doc, 0, 'alice', '', '0.25');
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">Hällo &lt;€&gt;</insert-caret></request>'));
    await eventually(() => server.sessionText(doc) === 'Hällo <€>', 'the edit');
    // b is not subscribed: INF_DIRECTORY_ERROR 18 with infinoted's words (capture 03b).
    b.send(dir(`<save-session seq="1" id="${doc}"/>`));
    expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="18" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/1">The requesting connection is not subscribed to the session</request-failed></group>`);
    a.send(dir(`<save-session seq="2" id="${doc}"/>`));
    expect(await a.next('</group>')).to.equal(`<group name="InfDirectory"><saved-session seq="${a.seqId}/2"/></group>`);
    expect(await readFile(join(root, 'saved.InfText'), 'utf8')).to.equal(
      '<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="alice" hue="0.25"/>\n  <buffer>\n    <segment author="1">H&#xE4;llo &lt;&#x20AC;&gt;</segment>\n  </buffer>\n</inf-text-session>\n',
    );
    await settle();
    expect(b.pending).to.equal('');
    // A directory is not a session: INF_DIRECTORY_ERROR 8 names the node (capture 03a).
    a.send(dir('<save-session seq="3" id="0"/>'));
    expect(await a.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="8" domain="INF_DIRECTORY_ERROR" seq="${a.seqId}/3">Node with ID "0" is not a leaf node</request-failed></group>`);
  });

  it('saves and unloads a session idle for idleUnloadMs, and loads it again with its text and its users unavailable', async () => {
    await server.close();
    await start(150);
    const a = await connect(server, 'alice');
    const doc = await addNode(a, 1, 0, 'InfText', 'idle', true);
    await joinUser(a, doc, 0, 'alice', '', '0.5');
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">kept</insert-caret></request>'));
    await eventually(() => server.sessionText(doc) === 'kept', 'the edit');
    // Subscribed: never unloaded, however long it is quiet.
    await settle(400);
    expect(server.sessionText(doc)).to.equal('kept');
    expect(existsSync(join(root, 'idle.InfText'))).to.equal(true);
    expect(await readFile(join(root, 'idle.InfText'), 'utf8')).to.not.contain('kept');

    a.send(session(doc, '<session-unsubscribe/>'));
    await eventually(() => server.sessionText(doc) === undefined, 'the unload');
    expect(await readFile(join(root, 'idle.InfText'), 'utf8')).to.equal(
      '<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="alice" hue="0.5"/>\n  <buffer>\n    <segment author="1">kept</segment>\n  </buffer>\n</inf-text-session>\n',
    );

    // Loaded from the file: the zero vector, no history, alice unavailable (§7.2).
    const b = await connect(server, 'bob');
    const sync = await subscribe(b, 1, doc);
    expect(sync).to.equal(
      `<group name="InfSession_${doc}"><sync-begin num-messages="2"/></group>` +
        `<group name="InfSession_${doc}"><sync-user id="1" name="alice" status="unavailable" time="" caret="0" selection="0" hue="0.5"/></group>` +
        `<group name="InfSession_${doc}"><sync-segment author="1">kept</sync-segment></group>` +
        `<group name="InfSession_${doc}"><sync-end/></group>`,
    );
    expect(server.sessionText(doc)).to.equal('kept');
    // alice comes back under her id and edits on top of the loaded text.
    expect(await joinUser(b, doc, 2, 'alice')).to.contain(`<user-rejoin id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="${b.seqId}/2"/>`);
    b.send(session(doc, '<request user="1" time=""><insert-caret pos="4">!</insert-caret></request>'));
    await eventually(() => server.sessionText(doc) === 'kept!', 'the edit after loading');
  });

  it('synchronises subscribers of an unchanged document from one serialisation, and a later one with the text as it is then', async () => {
    const a = await connect(server, 'alice');
    const doc = await addNode(a, 1, 0, 'InfText', 'shared', true);
    await joinUser(a, doc, 0, 'alice');
    // A long run (several sync-segments) with emoji, a combining mark and a control character.
    const text = 'x😀e\u0301\u0007'.repeat(3000);
    const wire = text.replace(/\u0007/g, '<uchar codepoint="7"/>');
    a.send(session(doc, `<request user="1" time=""><insert-caret pos="0">${wire}</insert-caret></request>`));
    await settle();
    const segmentsOf = (sync: string): string[] => sync.match(/<sync-segment author="\d+">[\s\S]*?<\/sync-segment>/g) ?? [];
    const textOf = (sync: string): string =>
      segmentsOf(sync)
        .map((x) => x.replace(/^<sync-segment author="\d+">|<\/sync-segment>$/g, '').replace(/<uchar codepoint="7"\/>/g, '\u0007'))
        .join('');
    const b = await connect(server, 'bob');
    const c = await connect(server, 'carol');
    const first = await subscribe(b, 1, doc);
    const second = await subscribe(c, 1, doc);
    expect(segmentsOf(first).length).to.be.greaterThan(1);
    expect(textOf(first)).to.equal(text);
    expect(segmentsOf(second)).to.deep.equal(segmentsOf(first));
    // An edit changes the state: the next subscriber gets the new text, not the cached one.
    a.send(session(doc, '<request user="1" time=""><delete-caret pos="0" len="2"/></request>'));
    await b.next('</group>');
    const d = await connect(server, 'dave');
    const third = await subscribe(d, 1, doc);
    expect(textOf(third)).to.equal([...text].slice(2).join(''));
  });

  it('relays user-color-change to the other members only and stores the hue', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const doc = await addNode(a, 1, 0, 'InfText', 'hues', true);
    await b.next('</group>');
    await joinUser(a, doc, 0, 'alice', '', '0.25');
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">A</insert-caret></request>'));
    await subscribe(b, 1, doc);
    await joinUser(b, doc, 2, 'bob', '1:1', '0.5');
    await a.next(`seq="${b.seqId}/2"/></group>`);
    b.send(session(doc, '<request user="2" time=""><insert-caret pos="1">B</insert-caret></request>'));
    expect(await a.next('</group>')).to.contain('<insert-caret pos="1">B</insert-caret>');

    a.send(session(doc, '<user-color-change id="1" hue="0.75"/>'));
    expect(await b.next('</group>')).to.equal(`<group name="InfSession_${doc}"><user-color-change id="1" hue="0.75"/></group>`);
    // Out of [0,1]: INF_TEXT_SESSION_ERROR 0, not reported to anyone, the hue unchanged (§5.4).
    a.send(session(doc, '<user-color-change id="1" hue="1.5"/>'));
    // Someone else's user: dropped (only the joining connection acts for a user).
    a.send(session(doc, '<user-color-change id="2" hue="0.125"/>'));
    await settle();
    expect([a.pending, b.pending]).to.deep.equal(['', '']);

    a.send(dir(`<save-session seq="2" id="${doc}"/>`));
    await a.next(`<saved-session seq="${a.seqId}/2"/></group>`);
    const file = await readFile(join(root, 'hues.InfText'), 'utf8');
    expect(file).to.contain('<user id="1" name="alice" hue="0.75"/>\n  <user id="2" name="bob" hue="0.5"/>');
    // A later subscriber is synchronised with the new hue.
    const c = await connect(server, 'carol');
    const sync = await subscribe(c, 1, doc);
    expect(sync).to.match(/<sync-user id="1" name="alice" status="active" time="1:1" caret="\d+" selection="0" hue="0.75"\/>/);
  });

  it('answers a request whose vector is ahead of the server with invalid-request to the sender alone, and goes on', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const doc = await addNode(a, 1, 0, 'InfText', 'ahead', true);
    await b.next('</group>');
    await joinUser(a, doc, 0, 'alice');
    await subscribe(b, 1, doc);
    await joinUser(b, doc, 2, 'bob');
    await a.next(`seq="${b.seqId}/2"/></group>`);
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">ok</insert-caret></request>'));
    expect(await b.next('</group>')).to.contain('<insert-caret pos="0">ok</insert-caret>');

    // bob claims to have seen three of alice's requests; the server knows one.
    b.send(session(doc, '<request user="2" time="1:3"><insert-caret pos="0">x</insert-caret></request>'));
    expect(await b.next('</group>')).to.equal(
      `<group name="InfSession_${doc}"><invalid-request request="1:3" state="1:1" user="2"><reason>Failed to apply request "1:3" from user "bob" at state "1:1": The request refers to requests the server has not seen</reason></invalid-request></group>`,
    );
    await settle();
    expect(a.pending).to.equal('');
    expect(server.sessionText(doc)).to.equal('ok');
    // Nothing of it was kept: bob's next request in order is executed and relayed.
    b.send(session(doc, '<request user="2" time="1:1"><insert-caret pos="2">!</insert-caret></request>'));
    expect(await a.next('</group>')).to.equal(`<group name="InfSession_${doc}"><request user="2" time="1:1"><insert-caret pos="2">!</insert-caret></request></group>`);
    expect(server.sessionText(doc)).to.equal('ok!');
    expect(b.pending).to.equal('');
  });

  it('a disconnect (no unsubscribe) makes the connection\'s users unavailable for the others; the name rejoins under its id', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const doc = await addNode(a, 1, 0, 'InfText', 'gone', true);
    await b.next('</group>');
    expect(await joinUser(a, doc, 0, 'alice', '', '0.25')).to.equal(`<group name="InfSession_${doc}"><user-join id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="${a.seqId}/0"/></group>`);
    a.send(session(doc, '<request user="1" time=""><insert-caret pos="0">abc</insert-caret></request>'));
    await subscribe(b, 1, doc);
    expect(await joinUser(b, doc, 2, 'bob', '1:1', '0.5')).to.contain('<user-join id="2" name="bob"');
    await a.next(`seq="${b.seqId}/2"/></group>`);

    a.disconnect();
    expect(await b.next('</group>')).to.equal(`<group name="InfSession_${doc}"><user-status-change id="1" status="unavailable"/></group>`);
    await eventually(() => server.connectionCount === 1, 'the connection to go');
    // The session stays loaded for bob, with alice's text.
    expect(server.sessionText(doc)).to.equal('abc');

    // alice reconnects and joins by name: same id, a user-rejoin to every member, with the seq.
    const a2 = await connect(server, 'alice');
    const sync = await subscribe(a2, 1, doc);
    expect(sync).to.contain('<sync-user id="1" name="alice" status="unavailable" time="1:1" caret="3" selection="0" hue="0.25"/>');
    const rejoin = `<group name="InfSession_${doc}"><user-rejoin id="1" name="alice" status="active" time="1:1" caret="2" selection="0" hue="0.375" seq="${a2.seqId}/2"/></group>`;
    a2.send(session(doc, `<user-join seq="2" name="alice" status="active" time="1:1" caret="2" hue="0.375"/>`));
    expect(await a2.next('</group>')).to.equal(rejoin);
    expect(await b.next('</group>')).to.equal(rejoin);
    // Her vector is the one she joined with (1:1, own index 1): the next request diffs against it.
    a2.send(session(doc, '<request user="1" time=""><insert-caret pos="3">d</insert-caret></request>'));
    expect(await b.next('</group>')).to.equal(`<group name="InfSession_${doc}"><request user="1" time=""><insert-caret pos="3">d</insert-caret></request></group>`);
    expect(server.sessionText(doc)).to.equal('abcd');
    // Only one alice: the original connection is gone, the name is now in use again.
    const c = await connect(server, 'carol');
    await subscribe(c, 1, doc);
    expect(await joinUser(c, doc, 2, 'alice')).to.equal(`<group name="InfSession_${doc}"><request-failed code="0" domain="INF_USER_ERROR" seq="${c.seqId}/2">Name "alice" already in use</request-failed></group>`);
  });

  it('refuses a second subscribe-session while the first is pending, and save-session before the ack, with infinoted\'s words', async () => {
    const a = await connect(server, 'alice');
    const b = await connect(server, 'bob');
    const doc = await addNode(a, 1, 0, 'InfText', 'twice', true);
    await b.next('</group>');
    b.send(dir(`<subscribe-session seq="1" id="${doc}"/>`));
    await b.next(`seq="${b.seqId}/1"/></group>`);
    // INF_DIRECTORY_ERROR 17, inf_directory_strerror's text (libinfinity 0.7.2).
    b.send(dir(`<subscribe-session seq="2" id="${doc}"/>`));
    expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="17" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/2">Connection is already subscribed to this session</request-failed></group>`);
    b.send(dir(`<save-session seq="3" id="${doc}"/>`));
    expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="18" domain="INF_DIRECTORY_ERROR" seq="${b.seqId}/3">The requesting connection is not subscribed to the session</request-failed></group>`);
    b.send(dir(`<subscribe-ack id="${doc}"/>`));
    await b.next('<sync-end/></group>');
    b.send(session(doc, '<sync-ack/>'));
    b.send(dir(`<save-session seq="4" id="${doc}"/>`));
    expect(await b.next('</group>')).to.equal(`<group name="InfDirectory"><saved-session seq="${b.seqId}/4"/></group>`);
  });

  it('gives a new connection the sequence id one above the highest in use, as infinoted does', async () => {
    const a = await connect(server, 'a');
    const b = await connect(server, 'b');
    const c = await connect(server, 'c');
    expect([a.seqId, b.seqId, c.seqId]).to.deep.equal(['1', '2', '3']);
    // infd_directory_add_connection: "max id in use + 1", so a gap is not filled (protocol.md 2.4).
    b.disconnect();
    await eventually(() => server.connectionCount === 2, 'b to go');
    const d = await connect(server, 'd');
    expect(d.seqId).to.equal('4');
    c.disconnect();
    d.disconnect();
    await eventually(() => server.connectionCount === 1, 'c and d to go');
    expect((await connect(server, 'e')).seqId).to.equal('2');
    a.disconnect();
    await eventually(() => server.connectionCount === 1, 'a to go');
    // Ids are reused once nobody holds them.
    expect((await connect(server, 'f')).seqId).to.equal('3');
  });
});
