// Malformed and unusual requests answered as infinoted 0.7.2 answers them. Every expected
// answer here is what the real infinoted sent for the same bytes (the differential wire fuzzer,
// test/interop/server-wire-fuzz.test.ts, and probes run on loopback on 2026-12-03).
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { dir, group, login, pair, type PairClient } from './wire.js';

describe('malformed requests, answered as infinoted answers them', () => {
  let root: string;
  let server: TandemServer;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-malformed-'));
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm' });
  });
  afterEach(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  async function client(): Promise<PairClient> {
    const c = pair(server);
    await login(c);
    c.send(dir('<explore-node seq="0" id="0"/>'));
    await c.next(/<explore-end seq="\d+\/0"\/><\/group>/);
    return c;
  }
  /** A new document "doc" (node 1) the client is subscribed to, and its user "u1" (id 1) joined. */
  async function joined(c: PairClient): Promise<void> {
    c.send(dir('<add-node seq="1" parent="0" type="InfText" name="doc"><subscribe/></add-node>'));
    await c.next('</group>');
    c.send(dir('<subscribe-ack id="1"/>'));
    c.send(group('InfSession_1', '<user-join seq="2" name="u1" status="active" time="" caret="0" hue="0.5"/>'));
    await c.next('</group>');
  }
  /** The client asks to subscribe to "doc" (node 1) and gets the server's answer. */
  async function asksForDoc(c: PairClient): Promise<void> {
    c.send(dir('<subscribe-session seq="3" id="1"/>'));
    await c.next('</group>');
  }
  const failed = (code: number, domain: string, text: string, seq?: string): string =>
    `<group name="InfDirectory"><request-failed code="${code}" domain="${domain}"${seq ? ` seq="${seq}"` : ''}>${text}</request-failed></group>`;

  it('reads numbers as strtoul does: white space, signs, octal and hexadecimal; -1 overflows', async () => {
    const c = await client();
    c.send(dir('<add-node seq="+1" parent=" 0" type="InfSubdirectory" name="d"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="1" parent="0" name="d" type="InfSubdirectory" seq="1/1"/></group>');
    c.send(dir('<explore-node seq="010" id="0x1"/>'));
    expect(await c.next('<explore-end seq="1/8"/></group>')).to.include('<explore-begin total="0" seq="1/8"/>');
    c.send(dir('<remove-node seq="2" id="-1"/>'));
    expect(await c.next('</group>')).to.equal(failed(5, 'INF_REQUEST_ERROR', "Attribute 'id' causes overflow (-1)", '1/2'));
  });

  it('reads the seq where libinfinity does: an invalid seq loses to the checks before it', async () => {
    const c = await client();
    // explore-node: the node, its type, the permission and "already explored" come first.
    c.send(dir('<explore-node seq="x" id="0"/>'));
    expect(await c.next('</group>')).to.equal(failed(12, 'INF_DIRECTORY_ERROR', 'Subdirectory has already been explored'));
    c.send(dir('<subscribe-session seq="1:-1" id="2"/>'));
    expect(await c.next('</group>')).to.equal(failed(4, 'INF_DIRECTORY_ERROR', 'Node does not exist'));
    // remove-node: node, root, permission, then the seq.
    c.send(dir('<remove-node seq="\u{1F600}" id="\u{1F600}"/>'));
    expect(await c.next('</group>')).to.equal(failed(5, 'INF_REQUEST_ERROR', "Attribute 'id' does not contain a valid number"));
    // Once the checks pass, the seq's own error.
    c.send(dir('<add-node seq="1.5" parent="0" type="InfText" name="a"/>'));
    expect(await c.next('</group>')).to.equal(failed(5, 'INF_REQUEST_ERROR', "Attribute 'seq' does not contain a valid number"));
    // An error after the seq was read carries it.
    c.send(dir('<add-node seq="3" parent="0" type="Foo" name="a"/>'));
    expect(await c.next('</group>')).to.equal(failed(16, 'INF_DIRECTORY_ERROR', 'Note type is not supported', '1/3'));
    c.send(dir('<explore-node seq="4" id="1"/>'));
    expect(await c.next('</group>')).to.equal(failed(4, 'INF_DIRECTORY_ERROR', 'Node does not exist', '1/4'));
  });

  it('checks names in infinoted\'s order and words, and announces a new node with its seq to every explorer', async () => {
    const a = await client();
    const b = await client();
    a.send(dir('<add-node seq="1" parent="0" type="InfText" name=""/>'));
    expect(await a.next('</group>')).to.equal(failed(3, 'INF_DIRECTORY_ERROR', 'Name "" is an invalid name: contains only space characters', '1/1'));
    a.send(dir('<add-node seq="2" parent="0" type="InfText" name="a/\u0085"/>'));
    expect(await a.next('</group>')).to.equal(failed(3, 'INF_DIRECTORY_ERROR', 'Name "a/\u0085" is an invalid name: contains non-printable characters', '1/2'));
    a.send(dir('<add-node seq="3" parent="0" type="InfText" name="doc"/>'));
    const announced = '<group name="InfDirectory"><add-node id="1" parent="0" name="doc" type="InfText" seq="1/3"/></group>';
    expect(await a.next('</group>')).to.equal(announced);
    expect(await b.next('</group>')).to.equal(announced);
    a.send(dir('<explore-node seq="4" id="1"/>'));
    expect(await a.next('</group>')).to.equal(failed(7, 'INF_DIRECTORY_ERROR', 'Node with ID "1" is not a subdirectory node', '1/4'));
  });

  it('answers a second subscribe-chat and subscribe-session of a subscribed connection; the extra ack changes nothing', async () => {
    const c = await client();
    c.send(dir('<subscribe-chat seq="1"/>'));
    await c.next('</group>');
    c.send(dir('<subscribe-ack/>'));
    await c.next('<sync-end/></group>');
    c.send(group('InfChat', '<sync-ack/>'));
    c.send(dir('<subscribe-chat seq="2"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><subscribe-chat group="InfChat" method="central" seq="1/2"/></group>');
    c.send(dir('<subscribe-ack/>'));
    c.send(dir('<add-node seq="3" parent="0" type="InfText" name="doc"><subscribe/></add-node>'));
    // Nothing came for the ack: the next answer is the add-node's.
    expect(await c.next('</group>')).to.include('<add-node id="1" parent="0" name="doc" type="InfText" seq="1/3">');
    c.send(dir('<subscribe-ack id="1"/>'));
    c.send(dir('<subscribe-session seq="4" id="1"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><subscribe-session group="InfSession_1" method="central" id="1" seq="1/4"/></group>');
    c.send(dir('<subscribe-ack id="1"/>'));
    c.send(dir('<subscribe-ack/>'));
    expect(await c.next('</group>')).to.equal(failed(5, 'INF_DIRECTORY_ERROR', 'No subscription request for the server chat'));
  });

  it('reads a user-join as infinoted: seq first, unknown status is unavailable, unreadable values are absent', async () => {
    const c = await client();
    c.send(dir('<add-node seq="1" parent="0" type="InfText" name="doc"><subscribe/></add-node>'));
    await c.next('</group>');
    c.send(dir('<subscribe-ack id="1"/>'));
    const join = async (attrs: string): Promise<string> => {
      c.send(group('InfSession_1', `<user-join ${attrs}/>`));
      return c.next('</group>');
    };
    const refused = (code: number, domain: string, text: string, seq?: string): string =>
      `<group name="InfSession_1"><request-failed code="${code}" domain="${domain}"${seq ? ` seq="${seq}"` : ''}>${text}</request-failed></group>`;
    expect(await join('seq="x" name="u1" status="active" time="" caret="0" hue="0.5"')).to.equal(refused(5, 'INF_REQUEST_ERROR', "Attribute 'seq' does not contain a valid number"));
    expect(await join('seq="5" name="u1" status="bogus" time="" caret="0" hue="0.5"')).to.equal(refused(4, 'INF_REQUEST_ERROR', '"status" attribute is "unavailable" in user join request', '1/5'));
    expect(await join('seq="7" name="u1" status="active" time="" caret="abc" hue="0.5"')).to.equal(refused(3, 'INF_REQUEST_ERROR', '"caret" attribute in user message is missing', '1/7'));
    expect(await join('seq="8" name="u1" status="active" time="x" caret="0" hue="0.5"')).to.equal(refused(3, 'INF_ADOPTED_SESSION_ERROR', '"time" attribute in user message is missing', '1/8'));
    // ":" is the empty vector to libinfinity; an unreadable selection is 0; an out-of-range hue 0.
    expect(await join('seq="9" name="u1" status="active" time=":" caret="0" selection="x" hue="2"')).to.equal('<group name="InfSession_1"><user-join id="1" name="u1" status="active" time="" caret="0" selection="0" hue="0" seq="1/9"/></group>');
    expect(await join('seq="10" name="u1" status="inactive" time="" caret="0" hue="0.5"')).to.equal(refused(0, 'INF_USER_ERROR', 'Name "u1" already in use', '1/10'));
  });

  it('reports an undo with nothing to undo without the "Failed to apply" prefix', async () => {
    const c = await client();
    await joined(c);
    c.send(group('InfSession_1', '<request user="1" time=""><redo/></request>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><invalid-request request="" state="" user="1"><reason>The request "" from user "u1" is a REDO request but there is no request to be redone.</reason></invalid-request></group>');
    c.send(group('InfSession_1', '<request user="1" time=""><insert pos="7">x</insert></request>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><invalid-request request="" state="" user="1"><reason>Failed to apply request "" from user "u1" at state "": Attempt to insert text after the end of the document</reason></invalid-request></group>');
  });

  it('hands text in a group to the directory as a message "text", and drops groups not published by the server', async () => {
    const c = await client();
    c.send('<group publisher="you" name="InfDirectory">\n  <explore-node seq="1" id="7"/></group>');
    expect(await c.next('</group>')).to.equal(failed(24, 'INF_DIRECTORY_ERROR', 'Received unexpected network message "text"'));
    expect(await c.next('</group>')).to.equal(failed(4, 'INF_DIRECTORY_ERROR', 'Node does not exist', '1/1'));
    for (const publisher of ['', ' publisher="me"', ' publisher=""', ' publisher="server"']) c.send(`<group${publisher} name="InfDirectory"><explore-node seq="2" id="7"/></group>`);
    c.send(dir('<explore-node seq="3" id="7"/>'));
    expect(await c.next('</group>')).to.equal(failed(4, 'INF_DIRECTORY_ERROR', 'Node does not exist', '1/3'));
  });

  it('answers the ack of a subscription whose document was removed meanwhile with the document and session-close', async () => {
    const c = await client();
    await joined(c);
    c.send(group('InfSession_1', '<request user="1" time=""><insert-caret pos="0">hey</insert-caret></request>'));
    c.send(group('InfSession_1', '<session-unsubscribe/>'));
    await asksForDoc(c);
    c.send(dir('<remove-node seq="4" id="1"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><remove-node id="1" seq="1/4"/></group>');
    c.send(dir('<subscribe-ack id="1"/>'));
    expect(await c.next('<session-close/></group>')).to.equal('<group name="InfSession_1"><sync-begin num-messages="3"/></group>'
      + '<group name="InfSession_1"><sync-user id="1" name="u1" status="unavailable" time="1:1" caret="3" selection="0" hue="0.5"/></group>'
      + '<group name="InfSession_1"><sync-request user="1" time=""><insert-caret pos="0">hey</insert-caret></sync-request></group>'
      + '<group name="InfSession_1"><sync-segment author="1">hey</sync-segment></group><group name="InfSession_1"><sync-end/></group>'
      + '<group name="InfSession_1"><session-close/></group>');
  });

  it('keeps a removed document\'s session for its subscribers until the subscriptions waiting for an ack are answered', async () => {
    const b = await client();
    await joined(b);
    const a = await client();
    await asksForDoc(a);
    b.send(dir('<remove-node seq="4" id="1"/>'));
    // No session-close yet: a's subscription still holds the session, which runs on for b.
    expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><remove-node id="1" seq="1/4"/></group>');
    b.send(group('InfSession_1', '<request user="1" time=""><insert-caret pos="0">gap</insert-caret></request>'));
    a.send(dir('<subscribe-ack id="1"/>'));
    // a gets the document as it is now, then both get session-close.
    expect(await a.next('<session-close/></group>')).to.match(/<remove-node id="1" seq="1\/4"\/><\/group>.*<sync-segment author="1">gap<\/sync-segment>.*<sync-end\/><\/group><group name="InfSession_1"><session-close\/><\/group>$/);
    expect(await b.next('</group>')).to.equal('<group name="InfSession_1"><session-close/></group>');
  });

  it('makes a leaving connection\'s users unavailable in infinoted\'s order: the last to (re)join first', async () => {
    const a = await client();
    await joined(a);
    const b = await client();
    await asksForDoc(b);
    b.send(dir('<subscribe-ack id="1"/>'));
    await b.next('<sync-end/></group>');
    b.send(group('InfSession_1', '<sync-ack/>'));
    const join = (seq: number, name: string): string => group('InfSession_1', `<user-join seq="${seq}" name="${name}" status="active" time="" caret="0" hue="0.5"/>`);
    for (const [seq, name] of [[4, 'v2'], [5, 'v3'], [6, 'v4']] as const) {
      b.send(join(seq, name));
      await a.next('</group>');
    }
    b.send(group('InfSession_1', '<user-status-change id="2" status="unavailable"/>'));
    await a.next('</group>');
    b.send(join(7, 'v2'));
    await a.next('</group>');
    b.send('</stream:stream>');
    const status = (id: number): string => `<group name="InfSession_1"><user-status-change id="${id}" status="unavailable"/></group>`;
    expect(await a.next(status(3))).to.equal(status(2) + status(4) + status(3));
  });

  describe('uploads (sync-in)', () => {
    const S = 'InfSession_SyncIn_1';
    /**
     * Starts an upload of `name` announcing `n` messages (`subscribe` adds <subscribe/>, and the
     * synchronisation then runs in the session's own group); returns that group.
     */
    async function upload(c: PairClient, n: number, subscribe = false, name = 'up'): Promise<string> {
      c.send(dir(`<add-node seq="1" parent="0" type="InfText" name="${name}"><sync-in/>${subscribe ? '<subscribe/>' : ''}</add-node>`));
      const answer = await c.next('</group>');
      const id = /<sync-in id="(\d+)"/.exec(answer)![1]!;
      c.send(dir(`<subscribe-ack id="${id}"/>`));
      const g = subscribe ? `InfSession_${id}` : `InfSession_SyncIn_${id}`;
      c.send(group(g, `<sync-begin num-messages="${n}"/>`));
      return g;
    }
    /** What a second client's subscription to node 1 synchronises (or the directory's answer). */
    async function seen(): Promise<string> {
      const d = await client();
      d.send(dir('<subscribe-session seq="5" id="1"/>'));
      const answer = await d.next('</group>');
      if (answer.includes('request-failed')) return answer;
      d.send(dir('<subscribe-ack id="1"/>'));
      return d.next('<sync-end/></group>');
    }
    const syncError = (code: number, domain: string, text: string): string =>
      `<group name="${S}"><sync-error code="${code}" domain="${domain}">${text}</sync-error></group>`;

    it('reads a sync-user as infinoted: id in base 10 and 32 bits, unknown status unavailable, unreadable hue random, out of range 0', async () => {
      const c = await client();
      await upload(c, 3);
      c.send(group(S, '<sync-user id=" 07" name="a" status="bogus" time="" caret="0" selection="x" hue="2"/>'));
      c.send(group(S, '<sync-user id="-1" name="b" status="unavailable" time="" caret="0" hue="nan"/>'));
      c.send(group(S, '<sync-user id="3" name="c" status="unavailable" time="" caret="0" hue=" 0.25"/>'));
      c.send(group(S, '<sync-end/>'));
      expect(await c.next('</group>')).to.equal(`<group name="${S}"><sync-ack/></group>`);
      // libinfinity's user table order: added as 7, 4294967295, 3, visited as 4294967295, 3, 7.
      expect(await seen()).to.equal('<group name="InfSession_1"><sync-begin num-messages="3"/></group>'
        + '<group name="InfSession_1"><sync-user id="4294967295" name="b" status="unavailable" time="" caret="0" selection="0" hue="0"/></group>'
        + '<group name="InfSession_1"><sync-user id="3" name="c" status="unavailable" time="" caret="0" selection="0" hue="0.25"/></group>'
        + '<group name="InfSession_1"><sync-user id="7" name="a" status="unavailable" time="" caret="0" selection="0" hue="0"/></group>'
        + '<group name="InfSession_1"><sync-end/></group>');
    });

    it('cancels an upload whose user is available unless the uploader subscribes (the user is then the uploader\'s)', async () => {
      const c = await client();
      await upload(c, 1);
      c.send(group(S, '<sync-user id="1" name="a" status="active" time="" caret="0" hue="0.5"/>'));
      expect(await c.next('</group>')).to.equal(syncError(8, 'INF_SESSION_SYNC_ERROR', 'The receiver cancelled the synchronization'));
      c.send(group(S, '<sync-end/>'));
      expect(await seen()).to.equal(failed(4, 'INF_DIRECTORY_ERROR', 'Node does not exist', '2/5'));
    });

    it('keeps an available user of an upload with subscribe joined through the uploader', async () => {
      const c = await client();
      const g = await upload(c, 1, true);
      c.send(group(g, '<sync-user id="1" name="a" status="inactive" time="" caret="0" hue="0.5"/>'));
      c.send(group(g, '<sync-end/>'));
      expect(await c.next('</group>')).to.equal(`<group name="${g}"><sync-ack/></group>`);
      expect(await seen()).to.include('<sync-user id="1" name="a" status="inactive" time="" caret="0" selection="0" hue="0.5"/>');
    });

    it('refuses id 0 (no user) and names the checks infinoted runs without reporting them', async () => {
      const cases: [string, string][] = [
        ['<sync-user id="0x10" name="a" status="unavailable" time="" caret="0" hue="0.5"/>', syncError(3, 'INF_SESSION_SYNC_ERROR', 'User ID is already in use')],
        ['<sync-user name="a" status="unavailable" time="" caret="0"/>', syncError(2, 'INF_SESSION_SYNC_ERROR', "'id' attribute in user message is missing")],
        ['<sync-user id="1" name="a" status="unavailable" time="x" caret="0"/>', syncError(3, 'INF_ADOPTED_SESSION_ERROR', '"time" attribute in user message is missing')],
        ['<sync-user id="1" name="a" status="unavailable" time="" caret="-"/>', syncError(3, 'INF_REQUEST_ERROR', '"caret" attribute in user message is missing')],
      ];
      for (const [i, [user, answer]] of cases.entries()) {
        const c = await client();
        const g = await upload(c, 1, false, `up${i}`);
        c.send(group(g, user));
        expect(await c.next('</group>'), user).to.equal(answer.replaceAll(S, g));
      }
    });

    it('checks each sync-request on arrival, in libinfinity\'s order and words', async () => {
      const c = await client();
      await upload(c, 3);
      c.send(group(S, '<sync-user id="1" name="a" status="unavailable" time="1:1" caret="0" hue="0.5"/>'));
      // The user is looked up before the time is read.
      c.send(group(S, '<sync-request user="2" time="x"><insert-caret pos="0">x</insert-caret></sync-request>'));
      expect(await c.next('</group>')).to.equal(syncError(0, 'INF_ADOPTED_SESSION_ERROR', "No such user with user ID '2'"));
      const d = await client();
      const g2 = await upload(d, 3, false, 'up2');
      d.send(group(g2, '<sync-user id="1" name="a" status="unavailable" time="1:1" caret="0" hue="0.5"/>'));
      d.send(group(g2, '<sync-request user="1" time="x"><insert-caret pos="0">x</insert-caret></sync-request>'));
      expect(await d.next('</group>')).to.equal(`<group name="${g2}"><sync-error code="0" domain="INF_ADOPTED_STATE_VECTOR_ERROR">Expected ":" after ID</sync-error></group>`);
      const e = await client();
      const g3 = await upload(e, 3, false, 'up3');
      e.send(group(g3, '<sync-user id="1" name="a" status="unavailable" time="1:1" caret="0" hue="0.5"/>'));
      // An undo as the first request of a log has nothing to undo: refused at once, not at sync-end.
      e.send(group(g3, '<sync-request user="1" time=""><undo/></sync-request>'));
      expect(await e.next('</group>')).to.equal(`<group name="${g3}"><sync-error code="2" domain="INF_ADOPTED_SESSION_ERROR">Undo received, but no previous request found</sync-error></group>`);
    });

    it('gives a user who joins after a synchronised id of 2^32-1 a free id instead of wrapping to 0', async () => {
      const c = await client();
      const g = await upload(c, 1, true);
      c.send(group(g, '<sync-user id="4294967295" name="a" status="unavailable" time="" caret="0" hue="0.5"/>'));
      c.send(group(g, '<sync-end/>'));
      expect(await c.next('</group>')).to.equal(`<group name="${g}"><sync-ack/></group>`);
      c.send(group('InfSession_1', '<user-join seq="2" name="z" status="active" time="" caret="0" hue="0.5"/>'));
      expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><user-join id="1" name="z" status="active" time="" caret="0" selection="0" hue="0.5" seq="1/2"/></group>');
    });
  });
});
