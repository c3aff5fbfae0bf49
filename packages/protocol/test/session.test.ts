import { expect } from 'chai';
import { StateVector } from '@tandem/adopted';
import {
  InfError, decodeInvalidRequest, decodeRequest, decodeSyncRequest, decodeTimeDiff, decodeUser,
  decodeUserJoinRequest, encodeInvalidRequest, encodeRequest, encodeSyncRequest, encodeTimeDiff, encodeUser,
  encodeUserJoinRequest, formatDouble, parseXmlDocument, serialize, splitSegments, decodeUserColorChange,
  encodeUserColorChange, decodeUserStatusChange, encodeUserStatusChange, decodeSyncBegin, encodeSyncBegin,
  decodeSyncSegment, encodeSyncSegment, decodeChatMessage, encodeChatMessage,
} from '../src/index.js';

const el = (s: string) => parseXmlDocument(s);

/** <request> elements as libinfinity 0.7.2 clients sent them (captures 01, 11). */
const REQUESTS: readonly string[] = [
  '<request user="1" time=""><insert-caret pos="0">Hello</insert-caret></request>',
  '<request user="1" time=""><delete-caret pos="0" len="1"/></request>',
  '<request user="1" time=""><undo-caret/></request>',
  '<request user="1" time=""><redo-caret/></request>',
  '<request user="1" time=""><insert-caret pos="11">ä€&lt;&amp;&gt;"\n</insert-caret></request>',
  '<request user="1" time=""><insert-caret pos="0"><uchar codepoint="12"/>&#13;\t</insert-caret></request>',
  '<request user="1" time=""><move caret="3" selection="2"/></request>',
  '<request user="1" time="2:1"><no-op/></request>',
  '<request user="1" time="" num="2"><undo-caret/></request>',
];

/** <sync-request> and user elements from infinoted's sync to a second client (capture 01). */
const SYNC_REQUESTS: readonly string[] = [
  '<sync-request user="1" time=""><insert-caret pos="0">Hello</insert-caret></sync-request>',
  '<sync-request user="1" time="1:2"><delete-caret pos="0"><segment author="1">H</segment></delete-caret></sync-request>',
  '<sync-request user="1" time="1:8"><delete-caret pos="0"><segment author="1"><uchar codepoint="12"/>&#13;\t</segment></delete-caret></sync-request>',
  '<sync-request user="1" time="1:3"><undo-caret/></sync-request>',
];

const USERS: readonly string[] = [
  '<sync-user id="1" name="alice" status="active" time="1:9" caret="3" selection="2" hue="0.25"/>',
  '<sync-user id="7" name="uploader" status="unavailable" time="" caret="0" selection="0" hue="0.59999999999999998"/>',
  '<user-join id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="1/0"/>',
  '<user-rejoin id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="1/0"/>',
  '<sync-user id="1" name="bob" status="unavailable"/>',
];

describe('session codecs', () => {
  for (const bytes of REQUESTS) {
    it(`decodes and re-encodes ${JSON.stringify(bytes)} byte for byte`, () => {
      expect(serialize(encodeRequest(decodeRequest(el(bytes))))).to.equal(bytes);
    });
  }
  for (const bytes of SYNC_REQUESTS) {
    it(`decodes and re-encodes sync ${JSON.stringify(bytes)} byte for byte`, () => {
      expect(serialize(encodeSyncRequest(decodeSyncRequest(el(bytes))))).to.equal(bytes);
    });
  }
  for (const bytes of USERS) {
    it(`decodes and re-encodes user ${JSON.stringify(bytes)} byte for byte`, () => {
      const u = decodeUser(el(bytes));
      const name = el(bytes).name as 'sync-user' | 'user-join' | 'user-rejoin';
      expect(serialize(encodeUser(name, u, u.seq))).to.equal(bytes);
    });
  }

  it('decodes the operations of every kind with positions in code points', () => {
    expect(decodeRequest(el('<request user="2" time="1:3"><insert pos="1">😀x</insert></request>'))).to.deep.equal({
      user: 2, time: '1:3', operation: { kind: 'insert', pos: 1, text: '😀x' },
    });
    expect(decodeRequest(el('<request user="2" time=""><delete pos="1" len="2"/></request>')).operation).to.deep.equal({ kind: 'delete', pos: 1, len: 2 });
    expect(decodeRequest(el('<request user="2" time=""><undo/></request>')).operation).to.deep.equal({ kind: 'undo' });
    expect(decodeRequest(el('<request user="2" time=""><redo/></request>')).operation).to.deep.equal({ kind: 'redo' });
    expect(decodeRequest(el('<request user="2" time=""><move caret="4" selection="-3"/></request>')).operation).to.deep.equal({ kind: 'move', caret: 4, selection: -3 });
  });

  it('encodes the legacy operation names with their -caret form', () => {
    const r = decodeRequest(el('<request user="2" time=""><insert pos="1">a</insert></request>'));
    expect(serialize(encodeRequest(r))).to.equal('<request user="2" time=""><insert-caret pos="1">a</insert-caret></request>');
  });

  it('refuses a request without an operation, with an unknown one, or with a bad number', () => {
    const codeOf = (s: string) => {
      try {
        decodeRequest(el(s));
      } catch (e) {
        return e instanceof InfError ? `${e.domain}:${e.code}` : 'other';
      }
      return 'none';
    };
    expect(codeOf('<request user="1" time=""/>')).to.equal('INF_ADOPTED_SESSION_ERROR:1');
    expect(codeOf('<request user="1" time=""><frobnicate/></request>')).to.equal('INF_ADOPTED_SESSION_ERROR:2');
    expect(codeOf('<request user="x" time=""><no-op/></request>')).to.equal('INF_REQUEST_ERROR:5');
    expect(codeOf('<request user="1"><no-op/></request>')).to.equal('INF_REQUEST_ERROR:3');
    expect(codeOf('<request user="1" time="1:1;1:2"><no-op/></request>')).to.equal('INF_ADOPTED_STATE_VECTOR_ERROR:0');
    expect(codeOf('<request user="1" time=""><delete-caret pos="0"/></request>')).to.equal('INF_REQUEST_ERROR:3');
  });

  it('adds and removes the reference vector in the time diff', () => {
    const base = StateVector.parse('1:4;2:7');
    const v = decodeTimeDiff('2:1;3:2', base);
    expect(v.toString()).to.equal('1:4;2:8;3:2');
    expect(encodeTimeDiff(v, base)).to.equal('2:1;3:2');
    expect(encodeTimeDiff(base, base)).to.equal('');
    expect(decodeTimeDiff('4:0', StateVector.zero).toString()).to.equal('');
  });

  it('writes the client join request in Gobby order, without id', () => {
    const bytes = '<user-join seq="0" name="alice" status="active" time="" caret="0" hue="0.25"/>';
    const req = decodeUserJoinRequest(el(bytes));
    expect(req).to.deep.include({ seq: 0, name: 'alice', status: 'active', caret: 0, hue: 0.25 });
    expect(serialize(encodeUserJoinRequest(req))).to.equal(bytes);
    expect(() => decodeUserJoinRequest(el('<user-join id="3" name="a"/>'))).to.throw(InfError, "'id' attribute provided in request");
  });

  it('formats doubles like %.17g', () => {
    expect(formatDouble(0.25)).to.equal('0.25');
    expect(formatDouble(0.3)).to.equal('0.29999999999999999');
    expect(formatDouble(0.6)).to.equal('0.59999999999999998');
    expect(formatDouble(0.1)).to.equal('0.10000000000000001');
    expect(formatDouble(0.90704215708311065)).to.equal('0.90704215708311065');
    expect(formatDouble(1795302510.2493889)).to.equal('1795302510.2493889');
    expect(formatDouble(1)).to.equal('1');
    expect(formatDouble(1e-5)).to.equal('1.0000000000000001e-05');
  });

  it('round-trips invalid-request, status, colour, sync-begin and sync-segment', () => {
    const ir = '<invalid-request request="3:1" state="1:2;3:1" user="1"><reason>Failed to apply request "3:1" from user "alice" at state "1:2;3:1": Attempt to insert text after the end of the document</reason></invalid-request>';
    expect(serialize(encodeInvalidRequest(decodeInvalidRequest(el(ir))))).to.equal(ir);
    const sc = '<user-status-change id="2" status="inactive"/>';
    const s = decodeUserStatusChange(el(sc));
    expect(serialize(encodeUserStatusChange(s.id, s.status))).to.equal(sc);
    const cc = '<user-color-change id="2" hue="0.5"/>';
    const c = decodeUserColorChange(el(cc));
    expect(serialize(encodeUserColorChange(c.id, c.hue))).to.equal(cc);
    expect(serialize(encodeSyncBegin(decodeSyncBegin(el('<sync-begin num-messages="11"/>')).numMessages))).to.equal('<sync-begin num-messages="11"/>');
    const seg = '<sync-segment author="1">Hello Worldä€&lt;&amp;&gt;"\n</sync-segment>';
    expect(serialize(encodeSyncSegment(decodeSyncSegment(el(seg))))).to.equal(seg);
  });

  it('splits long runs into sync segments of at most 1024 UTF-8 bytes without breaking characters', () => {
    const text = 'a'.repeat(1023) + '€' + '😀'.repeat(300);
    const parts = splitSegments([{ author: 3, text }]);
    expect(parts.map((p) => p.text).join('')).to.equal(text);
    for (const p of parts) expect(new TextEncoder().encode(p.text).length).to.be.at.most(1024);
    expect(parts[0]!.text).to.equal('a'.repeat(1023));
  });
});

describe('chat message text as libinfinity keeps it', () => {
  // The backlog infinoted 0.7.2 synchronised after receiving these (test/interop/server-wire.test.ts).
  const cases: [string, string][] = [
    ['x<uchar codepoint="55296"/>y', 'x<uchar codepoint="55296"/>y'],
    ['x<uchar codepoint="55357"/><uchar codepoint="56832"/>y', 'x<uchar codepoint="55357"/><uchar codepoint="56832"/>y'],
    ['x<uchar codepoint="4294967295"/>y', `x${'<uchar codepoint="4294967295"/>'.repeat(6)}y`],
    ['x<uchar codepoint="2147483648"/>y', `x${'<uchar codepoint="4294967295"/>'.repeat(6)}y`],
    ['x<uchar codepoint="2147483647"/>y', 'x<uchar codepoint="2147483647"/>y'],
    ['x<uchar codepoint="1114112"/>y', 'x<uchar codepoint="1114112"/>y'],
    ['x<uchar codepoint="65"/>y', 'xAy'],
    ['x<uchar codepoint=" 7"/>y', 'x<uchar codepoint="7"/>y'],
    ['x<uchar codepoint="13"/>y', 'x&#13;y'],
    ['\u{1F600}<uchar codepoint="12"/>\uFEFF', '\u{1F600}<uchar codepoint="12"/>\uFEFF'],
  ];
  for (const [sent, kept] of cases) {
    it(`reads ${sent} without refusing it and writes it back as ${kept}`, () => {
      const msg = decodeChatMessage(el(`<message user="1">${sent}</message>`));
      expect(serialize(encodeChatMessage({ ...msg, time: 5 }))).to.equal(`<message time="5" user="1">${kept}</message>`);
    });
  }

  it('shows what is not UTF-8 as U+FFFD and keeps plain text without a byte copy', () => {
    const odd = decodeChatMessage(el('<message user="1">a<uchar codepoint="55296"/>b</message>'));
    expect(odd.text).to.equal('a\uFFFD\uFFFD\uFFFDb'); // one for each byte of ED A0 80
    expect(odd.raw).to.be.instanceOf(Uint8Array);
    const plain = decodeChatMessage(el('<message user="1">caf\u00e9 \u{1F600}<uchar codepoint="12"/></message>'));
    expect(plain.text).to.equal('caf\u00e9 \u{1F600}\f');
    expect(plain.raw).to.equal(undefined);
  });

  it('still refuses a <uchar/> without a readable code point, as inf_xml_util_get_attribute_uint_required does', () => {
    expect(() => decodeChatMessage(el('<message user="1"><uchar/></message>'))).to.throw(InfError);
    expect(() => decodeChatMessage(el('<message user="1"><uchar codepoint="x"/></message>'))).to.throw(InfError);
  });
});
