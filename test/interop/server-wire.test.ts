// tandemd's bytes against infinoted's: the same raw client script (protocol.md 1.3-1.6, 3.3, 3.4,
// 3.6, 3.9, 5.2, 5.9) sent to both over plain TCP, every reply compared exactly. Only the host
// name in the server's stream header differs by machine; it is normalised before comparing.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { requireRealLibinfinity, startInfinoted, type ServerUnderTest } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const group = (name: string, body: string): string => `<group publisher="you" name="${name}">${body}</group>`;

/** One step: what the client sends, and the text the server's answer ends with. */
type Step = [send: string, until: string];

const LOGIN: Step[] = [
  [HEADER, '</stream:features>'],
  ['<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', '<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'],
  ['<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>', '<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'],
  [HEADER, '</welcome></group>'],
];

const SESSION: Step[] = [
  ...LOGIN,
  [group('InfDirectory', '<explore-node seq="0" id="0"/>'), '<explore-end seq="1/0"/></group>'],
  [group('InfDirectory', '<add-node seq="1" parent="0" type="InfText" name="doc"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-session seq="2" id="1"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack id="1"/>'), '<sync-end/></group>'],
  [group('InfSession_1', '<sync-ack/>') + group('InfSession_1', '<user-join seq="0" name="alice" status="active" time="" caret="0" hue="0.25"/>'), '</group>'],
  [group('InfSession_1', '<request user="1" time=""><insert-caret pos="0">hi 😀</insert-caret></request>') + group('InfDirectory', '<explore-node seq="3" id="0"/>'), '</request-failed></group>'],
  ['</stream:stream>', '</stream:stream>'],
];

const CHAT: Step[] = [
  ...LOGIN,
  [group('InfDirectory', '<subscribe-chat seq="0"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack/>'), '<sync-end/></group>'],
  [group('InfChat', '<sync-ack/>') + group('InfChat', '<user-join seq="1" name="bob" status="active"/>'), '</group>'],
  [group('InfChat', '<message user="1">hi &amp; bye</message>') + group('InfChat', '<message type="userjoin" user="1"/>') + group('InfDirectory', '<explore-node seq="2" id="0"/>'), '<explore-end seq="1/2"/></group>'],
  ['</stream:stream>', '</stream:stream>'],
];

const CHAT_DOCUMENT: Step[] = [
  ...LOGIN,
  // infinoted asserts that the parent was explored before a node is added to it.
  [group('InfDirectory', '<explore-node seq="9" id="0"/>'), '<explore-end seq="1/9"/></group>'],
  [group('InfDirectory', '<add-node seq="0" parent="0" type="InfChat" name="room"><subscribe/></add-node>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack id="1"/>') + group('InfSession_1', '<user-join seq="1" name="bob" status="active"/>'), '</group>'],
  [group('InfSession_1', '<message user="1">in the room</message>') + group('InfDirectory', '<add-node seq="2" parent="0" type="InfChat" name="hall"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-session seq="3" id="2"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack id="2"/>'), '<sync-end/></group>'],
  ['</stream:stream>', '</stream:stream>'],
];

/** Chat text with <uchar/> values a text session refuses: a chat keeps them unchecked and sends them back in its backlog. */
const UCHARS = ['55296', '-1', '4294967295', '2147483648', '1114112', '2147483647', '0', '65', '12', '13', '55357"/><uchar codepoint="56832', '65534', '67108864', ' 7'];
const CHAT_UCHAR: Step[] = [
  ...LOGIN,
  [group('InfDirectory', '<explore-node seq="9" id="0"/>'), '<explore-end seq="1/9"/></group>'],
  [group('InfDirectory', '<add-node seq="0" parent="0" type="InfChat" name="room"><subscribe/></add-node>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack id="1"/>') + group('InfSession_1', '<user-join seq="1" name="bob" status="active"/>'), '</group>'],
  [UCHARS.map((v) => group('InfSession_1', `<message user="1">x<uchar codepoint="${v}"/>y</message>`)).join('')
    + group('InfSession_1', '<session-unsubscribe/>') + group('InfDirectory', '<subscribe-session seq="2" id="1"/>'), '</group>'],
  [group('InfDirectory', '<subscribe-ack id="1"/>'), '<sync-end/></group>'],
  ['</stream:stream>', '</stream:stream>'],
];

/**
 * Names the file system refuses (longer than 255 bytes with the type): every kind of new note, an
 * upload and a subdirectory, each followed by a note that shows the id it got. infinoted numbers
 * a note before writing its file, so a refused one uses up an id (a subdirectory does not), and it
 * writes an upload's empty file at once, refusing such a name before any synchronisation.
 */
const LONG = 'x'.repeat(300);
const REFUSED_NAMES: Step[] = [
  ...LOGIN,
  [group('InfDirectory', '<explore-node seq="0" id="0"/>'), '<explore-end seq="1/0"/></group>'],
  ...[
    `<add-node seq="S" parent="0" type="InfText" name="${LONG}"/>`,
    `<add-node seq="S" parent="0" type="InfText" name="${LONG}"><subscribe/></add-node>`,
    `<add-node seq="S" parent="0" type="InfChat" name="${LONG}"/>`,
    `<add-node seq="S" parent="0" type="InfChat" name="${LONG}"><subscribe/></add-node>`,
    `<add-node seq="S" parent="0" type="InfText" name="${LONG}"><sync-in/></add-node>`,
    `<add-node seq="S" parent="0" type="InfSubdirectory" name="${LONG}"/>`,
    '<add-node seq="S" parent="0" type="InfText" name="n1"/>',
    '<add-node seq="S" parent="0" type="InfText" name="n1"/>',
  ].flatMap((m, i): Step[] => [
    [group('InfDirectory', m.replace('seq="S"', `seq="${2 * i + 1}"`)), '</group>'],
    [group('InfDirectory', `<add-node seq="${2 * i + 2}" parent="0" type="InfText" name="probe${i}"/>`), '</group>'],
  ]),
  [group('InfDirectory', '<add-node seq="99" parent="0" type="InfText" name="up"><sync-in/></add-node>'), '</group>'],
  // The upload above got id 15; declined, its name is free again.
  [group('InfDirectory', '<subscribe-nack id="15"/>') + group('InfDirectory', '<add-node seq="100" parent="0" type="InfText" name="up"/>'), '</group>'],
  ['</stream:stream>', '</stream:stream>'],
];

/** Runs the steps on a fresh plain connection and returns the server's answer to each. */
async function transcript(port: number, steps: readonly Step[]): Promise<string[]> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let buffer = '';
  let wake: (() => void) | undefined;
  socket.on('data', (d: string) => {
    buffer += d;
    wake?.();
  });
  socket.on('end', () => wake?.());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const out: string[] = [];
  try {
    for (const [send, until] of steps) {
      socket.write(send);
      const deadline = Date.now() + 20000;
      while (!buffer.includes(until)) {
        if (Date.now() > deadline || socket.readableEnded) throw new Error(`no "${until}" after ${send}; have: ${buffer}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      const end = buffer.indexOf(until) + until.length;
      out.push(buffer.slice(0, end).replace(/ from="[^"]*"/g, ' from="HOST"'));
      buffer = buffer.slice(end);
    }
    // Nothing may follow the last answer (e.g. an echo sent after the expected reply).
    await new Promise((r) => setTimeout(r, 200));
    out.push(buffer);
  } finally {
    socket.destroy();
  }
  return out;
}

describe('tandemd on the wire, byte for byte against infinoted', function () {
  this.timeout(60000);
  let servers: ServerUnderTest[] = [];

  before(() => requireRealLibinfinity());

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    servers = [];
  });

  async function both(steps: readonly Step[], plugins: string[] = []): Promise<[string[], string[]]> {
    const reference = await startInfinoted({ securityPolicy: 'no-tls', plugins });
    servers.push(reference);
    const ours = await startTandemd({ securityPolicy: 'no-tls', plugins: plugins.length > 0 ? ['note-text', ...plugins] : [] });
    servers.push(ours);
    const run = async (s: ServerUnderTest): Promise<string[]> => {
      try {
        return await transcript(s.port, steps);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nserver output:\n${s.output()}`);
      }
    };
    return [await run(reference), await run(ours)];
  }

  it('answers login, welcome, explore, add-node, subscribe, sync, user-join, a request and close with the same bytes', async () => {
    const [theirs, ours] = await both(SESSION);
    expect(theirs[0]).to.equal('<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0" from="HOST"><stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>');
    for (let i = 0; i < theirs.length; i++) expect(ours[i], `answer to step ${i}: ${SESSION[i]?.[0] ?? '(after the script)'}`).to.equal(theirs[i]);
  });

  it('answers subscribe-chat, the chat sync, a chat user-join and chat messages with the same bytes', async () => {
    const [theirs, ours] = await both(CHAT);
    expect(theirs[4]).to.include('<subscribe-chat group="InfChat" method="central" seq="1/0"/>');
    for (let i = 0; i < theirs.length; i++) expect(ours[i], `answer to step ${i}: ${CHAT[i]?.[0] ?? '(after the script)'}`).to.equal(theirs[i]);
  });

  it('creates and serves InfChat documents with note-chat with the same bytes, and stores them as infinoted does', async () => {
    const [theirs, ours] = await both(CHAT_DOCUMENT, ['note-chat']);
    expect(theirs[3]).to.include('<note-plugin type="InfChat"/><note-plugin type="InfText"/>');
    for (let i = 0; i < theirs.length; i++) expect(ours[i], `answer to step ${i}: ${CHAT_DOCUMENT[i]?.[0] ?? '(after the script)'}`).to.equal(theirs[i]);
    expect(readFileSync(join(servers[1]!.root, 'room.InfChat'), 'utf8')).to.equal('<?xml version="1.0"?>\n<inf-chat-session/>\n');
  });

  it('numbers new notes as infinoted when the file system refuses their names, and refuses such an upload at once', async () => {
    const [theirs, ours] = await both(REFUSED_NAMES, ['note-chat']);
    expect(theirs.join('')).to.include('File name too long');
    for (let i = 0; i < theirs.length; i++) expect(ours[i], `answer to step ${i}: ${REFUSED_NAMES[i]?.[0].slice(0, 200) ?? '(after the script)'}`).to.equal(theirs[i]);
  });

  it('keeps chat text with surrogate, out-of-range and NUL <uchar/>s and sends its backlog with the same bytes', async () => {
    const untimed = (xs: string[]): string[] => xs.map((x) => x.replace(/ time="\d+"/g, ' time="T"'));
    const [theirs, ours] = (await both(CHAT_UCHAR, ['note-chat'])).map(untimed) as [string[], string[]];
    // Read back as libinfinity holds it: g_unichar_to_utf8 bytes, anything after a NUL turned to NULs.
    expect(theirs[8]).to.include('<message time="T" user="1">x<uchar codepoint="4294967295"/><uchar codepoint="4294967295"/><uchar codepoint="4294967295"/><uchar codepoint="4294967295"/><uchar codepoint="4294967295"/><uchar codepoint="4294967295"/>y</message>');
    expect(theirs[8]).to.include('<message time="T" user="1">x<uchar codepoint="0"/><uchar codepoint="0"/></message>');
    for (let i = 0; i < theirs.length; i++) expect(ours[i], `answer to step ${i}: ${CHAT_UCHAR[i]?.[0] ?? '(after the script)'}`).to.equal(theirs[i]);
  });
});
