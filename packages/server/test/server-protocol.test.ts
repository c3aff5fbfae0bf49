// Protocol-level tests over an in-memory duplex pair: exact bytes as in the captures.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plain } from '../src/auth.js';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { HEADER, group, login, pair } from './wire.js';

describe('tandemd protocol (in-memory)', () => {
  let root: string;
  let server: TandemServer;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-proto-'));
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm' });
  });
  afterEach(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('negotiates ANONYMOUS and welcomes with the bytes infinoted sends', async () => {
    const c = pair(server);
    c.send(HEADER);
    expect(await c.next('</stream:features>')).to.equal('<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0" from="vm"><stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>');
    c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    c.send('<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>');
    await c.next('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    c.send(HEADER);
    expect(await c.next('</welcome></group>')).to.equal('<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0" from="vm"><stream:features/><group name="InfDirectory"><welcome protocol-version="1.1" sequence-id="1"><note-plugins><note-plugin type="InfText"/></note-plugins><acl><sheet id="default" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="no" can-create-account="no" can-override-account="no" can-remove-account="no" can-query-acl="no" can-set-acl="no"/></acl></welcome></group>');
  });

  it('answers a wrong password with not-authorized and lets the client retry', async () => {
    await server.close();
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', auth: plain({ password: 'secret' }) });
    const c = pair(server);
    c.send(HEADER);
    expect(await c.next('</stream:features>')).to.include('<mechanism>PLAIN</mechanism></mechanisms>');
    c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"/>');
    await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    c.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from('\0alice\0nope').toString('base64')}</response>`);
    expect(await c.next('</failure>')).to.equal('<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>');
    c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"/>');
    await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    c.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from('\0alice\0secret').toString('base64')}</response>`);
    await c.next('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
  });

  it('closes with not-authorized when a stanza comes before authentication', async () => {
    const c = pair(server);
    c.send(HEADER);
    await c.next('</stream:features>');
    c.send(group('InfDirectory', '<explore-node seq="0" id="0"/>'));
    expect(await c.next('</stream:stream>')).to.equal('<stream:error><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>');
  });

  it('explores, adds nodes, and reports directory errors with codes and seq', async () => {
    const c = pair(server);
    await login(c);
    c.send(group('InfDirectory', '<explore-node seq="0" id="0"/>'));
    expect(await c.next('<explore-end seq="1/0"/></group>')).to.equal('<group name="InfDirectory"><explore-begin total="0" seq="1/0"/></group><group name="InfDirectory"><explore-end seq="1/0"/></group>');
    c.send(group('InfDirectory', '<add-node seq="1" parent="0" type="InfSubdirectory" name="dir1"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="dir1" type="InfSubdirectory" seq="1/1"/></group>');
    c.send(group('InfDirectory', '<add-node seq="2" parent="0" type="InfText" name="DIR1"/>'));
    expect(await c.next('</group>')).to.match(/<request-failed code="2" domain="INF_DIRECTORY_ERROR" seq="1\/2">/);
    c.send(group('InfDirectory', '<add-node seq="3" parent="0" type="InfText" name=".."/>'));
    expect(await c.next('</group>')).to.match(/code="3" domain="INF_DIRECTORY_ERROR" seq="1\/3"/);
    c.send(group('InfDirectory', '<add-node seq="4" parent="0" type="InfText"/>'));
    expect(await c.next('</group>')).to.include(`<request-failed code="3" domain="INF_REQUEST_ERROR" seq="1/4">Request 'add-node' does not contain required attribute 'name'</request-failed>`);
    c.send(group('InfDirectory', '<frobnicate seq="5"/>'));
    expect(await c.next('</group>')).to.include('code="24" domain="INF_DIRECTORY_ERROR" seq="1/5">Received unexpected network message "frobnicate"');
    c.send(group('InfDirectory', '<explore-node seq="x" id="1"/>'));
    expect(await c.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="5" domain="INF_REQUEST_ERROR">Attribute 'seq' does not contain a valid number</request-failed></group>`);
    c.send(group('InfDirectory', '<remove-node seq="6" id="0"/>'));
    expect(await c.next('</group>')).to.include('code="10"');
    c.send(group('InfDirectory', '<add-node seq="7" parent="0" type="InfText" name="café"/>'));
    // Non-ASCII in an attribute goes out as a reference, as libxml2 writes it.
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="2" parent="0" name="caf&#xE9;" type="InfText" seq="1/7"/></group>');
  });

  it('refuses a name the file system cannot store as infinoted does (G_FILE_ERROR, no path), and stores what infinoted can', async () => {
    const c = pair(server);
    await login(c);
    const dir = (b: string) => group('InfDirectory', b);
    c.send(dir('<explore-node seq="1" id="0"/>'));
    await c.next('<explore-end seq="1/1"/></group>');
    const long = 'a'.repeat(300);
    // The bytes infinoted 0.7.2 sends for each of these (compared on loopback, 2026-12-03).
    c.send(dir(`<add-node seq="2" parent="0" type="InfText" name="${long}"><subscribe/></add-node>`));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="3" domain="g-file-error-quark" seq="1/2">File name too long</request-failed></group>');
    c.send(dir(`<add-node seq="3" parent="0" type="InfText" name="${long}"/>`));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="3" domain="g-file-error-quark" seq="1/3">File name too long</request-failed></group>');
    c.send(dir(`<add-node seq="4" parent="0" type="InfSubdirectory" name="${long}"/>`));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="3" domain="g-file-error-quark" seq="1/4">File name too long</request-failed></group>');
    // 247 bytes: "<name>.InfText" is 255, the most a file name may have. Its journal and the temporary
    // file of a save need other names; the document is stored and comes back after a restart.
    const longest = 'b'.repeat(247);
    c.send(dir(`<add-node seq="5" parent="0" type="InfText" name="${longest}"><subscribe/></add-node>`));
    const added = await c.next('</add-node></group>');
    const id = /add-node id="(\d+)"/.exec(added)![1];
    expect(readdirSync(root)).to.include(`${longest}.InfText`);
    c.send(dir(`<subscribe-ack id="${id}"/>`));
    c.send(group(`InfSession_${id}`, '<user-join seq="6" name="alice" status="active" time="" caret="0" selection="0" hue="0.5"/>'));
    await c.next('<user-join');
    c.send(group(`InfSession_${id}`, '<request user="1" time=""><insert-caret pos="0">kept 😀</insert-caret></request>'));
    for (let i = 0; i < 100 && server.sessionText(Number(id)) !== 'kept 😀'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.sessionText(Number(id))).to.equal('kept 😀');
    expect(readdirSync(root).filter((f) => f.endsWith('.journal'))).to.have.length(1);
    await server.close();
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm' });
    expect(readdirSync(root).filter((f) => f.endsWith('.journal') || f.endsWith('.tmp'))).to.deep.equal([]);
    const d = pair(server);
    await login(d);
    d.send(dir('<explore-node seq="1" id="0"/>'));
    const listing = await d.next('<explore-end seq="1/1"/></group>');
    const found = new RegExp(`<add-node id="(\\d+)" parent="0" name="${longest}" type="InfText" seq="1/1"/>`).exec(listing);
    expect(found, listing).to.not.equal(null);
    d.send(dir(`<subscribe-session seq="2" id="${found![1]}"/>`));
    await d.next('</group>');
    d.send(dir(`<subscribe-ack id="${found![1]}"/>`));
    expect(await d.next('<sync-end/>')).to.include('kept 😀');
  });

  it('tells a client about a new node once: in its listing if it explores while the node is being stored, else announced', async () => {
    // A storage that holds writes of documents back until released: an uploaded document is in
    // the tree but not yet announced while a client explores the root.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    // Armed once the upload began: the empty file written at the add-node goes through.
    let armed = false;
    class SlowWrites extends FilesystemStorage {
      override async writeText(...args: Parameters<FilesystemStorage['writeText']>): Promise<void> {
        if (!armed) return super.writeText(...args);
        held = true;
        await gate;
        return super.writeText(...args);
      }
    }
    await server.close();
    server = await createServer({ storage: new SlowWrites(root), securityPolicy: 'no-tls', hostName: 'vm' });
    const explore = async (c: ReturnType<typeof pair>, seq: number): Promise<string> => {
      c.send(group('InfDirectory', `<explore-node seq="${seq}" id="0"/>`));
      return c.next(/<explore-end seq="\d+\/\d+"\/><\/group>/);
    };
    const early = pair(server);
    await login(early, 'ZWFybHk=');
    await explore(early, 1);
    const up = pair(server);
    await login(up);
    up.send(group('InfDirectory', '<add-node seq="1" parent="0" type="InfText" name="up"><sync-in/></add-node>'));
    await up.next('</group>');
    armed = true;
    up.send(group('InfDirectory', '<subscribe-ack id="1"/>') + group('InfSession_SyncIn_1', '<sync-begin num-messages="0"/>') + group('InfSession_SyncIn_1', '<sync-end/>'));
    expect(await up.next('</group>')).to.equal('<group name="InfSession_SyncIn_1"><sync-ack/></group>');
    for (let i = 0; i < 200 && !held; i++) await new Promise((r) => setTimeout(r, 5));
    expect(held, 'the save after the upload waits').to.equal(true);
    const late = pair(server);
    await login(late, 'bGF0ZQ==');
    expect(await explore(late, 1)).to.include('<add-node id="1" parent="0" name="up" type="InfText" seq="3/1"/>');
    release();
    // The client that explored before gets the announcement; the one that explored meanwhile
    // found the node in its listing and gets nothing more.
    expect(await early.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="up" type="InfText"/></group>');
    late.send(group('InfDirectory', '<explore-node seq="2" id="77"/>'));
    expect(await late.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="4" domain="INF_DIRECTORY_ERROR" seq="3/2">Node does not exist</request-failed></group>');
  });

  it('writes an upload\'s empty file at the add-node and removes it when the upload is declined, fails or is left', async () => {
    const files = (): string[] => readdirSync(root).filter((f) => f.endsWith('.InfText')).sort();
    const c = pair(server);
    await login(c);
    c.send(group('InfDirectory', '<add-node seq="1" parent="0" type="InfText" name="declined"><sync-in/></add-node>'));
    await c.next('</group>');
    expect(files()).to.deep.equal(['declined.InfText']);
    c.send(group('InfDirectory', '<subscribe-nack id="1"/>') + group('InfDirectory', '<add-node seq="2" parent="0" type="InfText" name="failed"><sync-in/></add-node>'));
    await c.next('</group>');
    expect(files()).to.deep.equal(['failed.InfText']);
    c.send(group('InfDirectory', '<subscribe-ack id="2"/>') + group('InfSession_SyncIn_2', '<sync-begin num-messages="2"/>') + group('InfSession_SyncIn_2', '<sync-end/>'));
    expect(await c.next('</group>')).to.include('<sync-error code="11" domain="INF_SESSION_SYNC_ERROR">');
    c.send(group('InfDirectory', '<add-node seq="3" parent="0" type="InfText" name="left"><sync-in/></add-node>'));
    await c.next('</group>');
    expect(files()).to.deep.equal(['left.InfText']);
    c.send('</stream:stream>');
    await c.closed;
    for (let i = 0; i < 100 && files().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(files()).to.deep.equal([]);
    // A finished upload keeps its file, with its text.
    const d = pair(server);
    await login(d);
    d.send(group('InfDirectory', '<add-node seq="1" parent="0" type="InfText" name="done"><sync-in/></add-node>'));
    await d.next('</group>');
    d.send(group('InfDirectory', '<subscribe-ack id="4"/>') + group('InfSession_SyncIn_4', '<sync-begin num-messages="1"/>')
      + group('InfSession_SyncIn_4', '<sync-segment author="0">hi</sync-segment>') + group('InfSession_SyncIn_4', '<sync-end/>'));
    expect(await d.next('</group>')).to.equal('<group name="InfSession_SyncIn_4"><sync-ack/></group>');
    for (let i = 0; i < 100 && !readFileSync(join(root, 'done.InfText'), 'utf8').includes('hi'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(join(root, 'done.InfText'), 'utf8')).to.include('<segment author="0">hi</segment>');
  });

  it('handles every message read before the stream ends: before the client\'s end tag, and before a stream error', async () => {
    // A script that adds a node and ends the stream in one write: the node exists, as with infinoted.
    const c = pair(server);
    await login(c);
    c.send(group('InfDirectory', '<explore-node seq="1" id="0"/>') + group('InfDirectory', '<add-node seq="2" parent="0" type="InfSubdirectory" name="made"/>') + '</stream:stream>');
    await c.closed;
    const d = pair(server);
    await login(d, 'Ym9i');
    d.send(group('InfDirectory', '<explore-node seq="1" id="0"/>'));
    expect(await d.next('<explore-end seq="1/1"/></group>')).to.include('name="made" type="InfSubdirectory"');
    // A request, then text that is not well-formed ("]]>"): the request is answered, then the error.
    d.send(group('InfDirectory', '<explore-node seq="2" id="77"/>') + group('InfDirectory', 'a]]>b'));
    expect(await d.next('</stream:stream>')).to.equal('<group name="InfDirectory"><request-failed code="4" domain="INF_DIRECTORY_ERROR" seq="1/2">Node does not exist</request-failed></group>'
      + '<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>');
  });

  it('keeps a refused request out of the user\'s vector, so that newcomers can still synchronise (infinoted cannot)', async () => {
    const c = pair(server);
    await login(c);
    const dir = (b: string) => group('InfDirectory', b);
    c.send(dir('<add-node seq="1" parent="0" type="InfText" name="doc"><subscribe/></add-node>'));
    const id = /add-node id="(\d+)"/.exec(await c.next('</add-node></group>'))![1];
    c.send(dir(`<subscribe-ack id="${id}"/>`));
    const s = (b: string) => group(`InfSession_${id}`, b);
    c.send(s('<user-join seq="2" name="alice" status="active" time="" caret="0" selection="0" hue="0.5"/>'));
    await c.next('seq="1/2"/></group>');
    c.send(s('<request user="1" time=""><insert-caret pos="0">ab😀</insert-caret></request>'));
    // Beyond the end: refused, to the sender alone, with the reason once.
    c.send(s('<request user="1" time=""><delete-caret pos="2" len="5"/></request>'));
    expect(await c.next('</invalid-request></group>')).to.equal(`<group name="InfSession_${id}"><invalid-request request="1:1" state="1:1" user="1"><reason>Failed to apply request "1:1" from user "alice" at state "1:1": Attempt to remove text from after the end of the document</reason></invalid-request></group>`);
    const d = pair(server);
    await login(d, 'Ym9i');
    d.send(dir('<explore-node seq="1" id="0"/>'));
    await d.next('<explore-end');
    d.send(dir(`<subscribe-session seq="2" id="${id}"/>`));
    await d.next('</group>');
    d.send(dir(`<subscribe-ack id="${id}"/>`));
    const sync = await d.next('<sync-end/>');
    // The vector says one request of alice, and the log has it (infinoted would send "1:2").
    expect(sync).to.include('<sync-user id="1" name="alice" status="active" time="1:1"');
    expect(sync).to.include('<sync-request user="1" time="">');
    // Her next request, made at that state, is executed and relayed.
    c.send(s('<request user="1" time=""><delete-caret pos="2" len="1"/></request>'));
    d.send(s('<sync-ack/>'));
    expect(await d.next('</request></group>')).to.match(/<request user="1" time="">\s*<delete-caret pos="2" len="1"\/><\/request><\/group>$/);
    expect(server.sessionText(Number(id))).to.equal('ab');
  });

  it('removes the new empty document of an add-node with subscribe that is declined, or whose creator leaves before the ack', async () => {
    const c = pair(server);
    await login(c);
    const dir = (b: string) => group('InfDirectory', b);
    c.send(dir('<explore-node seq="1" id="0"/>'));
    await c.next('<explore-end seq="1/1"/></group>');
    c.send(dir('<add-node seq="2" parent="0" type="InfText" name="declined"><subscribe/></add-node>'));
    const first = /add-node id="(\d+)"/.exec(await c.next('</add-node></group>'))![1];
    expect(readdirSync(root)).to.include('declined.InfText');
    c.send(dir(`<subscribe-nack id="${first}"/>`));
    for (let i = 0; i < 100 && readdirSync(root).includes('declined.InfText'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(root)).to.not.include('declined.InfText');
    // The name is free again.
    c.send(dir('<add-node seq="3" parent="0" type="InfText" name="declined"/>'));
    expect(await c.next('</group>')).to.match(/^<group name="InfDirectory"><add-node id="\d+" parent="0" name="declined" type="InfText" seq="1\/3"\/><\/group>$/);
    c.send(dir('<add-node seq="4" parent="0" type="InfText" name="abandoned"><subscribe/></add-node>'));
    await c.next('</add-node></group>');
    expect(readdirSync(root)).to.include('abandoned.InfText');
    c.send('</stream:stream>');
    await c.closed;
    for (let i = 0; i < 100 && readdirSync(root).includes('abandoned.InfText'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(root)).to.not.include('abandoned.InfText');
    expect(readdirSync(root)).to.include('declined.InfText');
  });

  it('runs a session: create with subscribe, join, relay requests, name in use, invalid request to the sender only', async () => {
    const a = pair(server);
    const b = pair(server);
    await login(a);
    await login(b, 'Ym9i');
    a.send(group('InfDirectory', '<explore-node seq="0" id="0"/>'));
    await a.next('<explore-end seq="1/0"/></group>');
    b.send(group('InfDirectory', '<explore-node seq="0" id="0"/>'));
    await b.next('<explore-end seq="2/0"/></group>');
    a.send(group('InfDirectory', '<add-node seq="1" parent="0" type="InfText" name="doc1"><subscribe/></add-node>'));
    expect(await a.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="doc1" type="InfText" seq="1/1"><subscribe group="InfSession_1" method="central"/></add-node></group>');
    a.send(group('InfDirectory', '<subscribe-ack id="1"/>'));
    expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="doc1" type="InfText"/></group>');
    a.send(group('InfSession_1', '<user-join seq="0" name="alice" status="active" time="" caret="0" hue="0.25"/>'));
    expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><user-join id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="1/0"/></group>');
    a.send(group('InfSession_1', '<request user="1" time=""><insert-caret pos="0">H😀<uchar codepoint="12"/></insert-caret></request>'));
    b.send(group('InfDirectory', '<subscribe-session seq="1" id="1"/>'));
    expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><subscribe-session group="InfSession_1" method="central" id="1" seq="2/1"/></group>');
    b.send(group('InfDirectory', '<subscribe-ack id="1"/>'));
    const sync = await b.next('<sync-end/></group>');
    expect(sync).to.include('<sync-begin num-messages="3"/>');
    expect(sync).to.include('<sync-user id="1" name="alice" status="active" time="1:1" caret="3" selection="0" hue="0.25"/>');
    expect(sync).to.include('<sync-request user="1" time=""><insert-caret pos="0">H😀<uchar codepoint="12"/></insert-caret></sync-request>');
    expect(sync).to.include('<sync-segment author="1">H😀<uchar codepoint="12"/></sync-segment>');
    // Ignored until sync-ack (quirk 11).
    b.send(group('InfSession_1', '<user-join seq="0" name="early" status="active" time="1:1" caret="0"/>'));
    b.send(group('InfSession_1', '<sync-ack/>'));
    b.send(group('InfSession_1', '<user-join seq="1" name="alice" status="active" time="1:1" caret="0"/>'));
    expect(await b.next('</group>')).to.equal('<group name="InfSession_1"><request-failed code="0" domain="INF_USER_ERROR" seq="2/1">Name "alice" already in use</request-failed></group>');
    b.send(group('InfSession_1', '<user-join seq="2" name="bob" status="active" time="1:1" caret="0" hue="0.5"/>'));
    expect(await b.next('</group>')).to.include('<user-join id="2" name="bob" status="active" time="1:1" caret="0" selection="0" hue="0.5" seq="2/2"/>');
    expect(await a.next('</group>')).to.include('seq="2/2"');
    b.send(group('InfSession_1', '<request user="2" time=""><insert-caret pos="99">x</insert-caret></request>'));
    expect(await b.next('</group>')).to.match(/^<group name="InfSession_1"><invalid-request request="1:1" state="1:1" user="2"><reason>Failed to apply request "1:1" from user "bob" at state "1:1": /);
    // The session goes on for the others: alice edits, bob gets it, alice never saw bob's bad request.
    expect(a.pending).to.equal('');
    a.send(group('InfSession_1', '<request user="1" time=""><insert-caret pos="3">!</insert-caret></request>'));
    expect(await b.next('</group>')).to.equal('<group name="InfSession_1"><request user="1" time=""><insert-caret pos="3">!</insert-caret></request></group>');
    expect(server.sessionText(1)).to.equal('H😀\f!');
    // A request for someone else's user is dropped; nothing is relayed.
    b.send(group('InfSession_1', '<request user="1" time=""><insert-caret pos="0">z</insert-caret></request>'));
    b.send(group('InfSession_1', '<session-unsubscribe/>'));
    expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><user-status-change id="2" status="unavailable"/></group>');
    expect(server.sessionText(1)).to.equal('H😀\f!');
  });
});
