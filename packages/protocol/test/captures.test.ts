import { expect } from 'chai';
import {
  Element, InfError, XmlParser, decodeChatMessage, decodeDirectoryReply, decodeDirectoryRequest, decodeGroup,
  decodeInvalidRequest, decodeRequest, decodeSyncBegin, decodeSyncRequest, decodeSyncSegment, decodeUser,
  decodeUserColorChange, decodeUserJoinRequest, decodeUserStatusChange, encodeChatMessage, encodeDirectoryReply,
  encodeDirectoryRequest, encodeGroup, encodeInvalidRequest, encodeRequest, encodeSyncBegin, encodeSyncRequest,
  encodeSyncSegment, encodeUser, encodeUserColorChange, encodeUserJoinRequest, encodeUserStatusChange,
  fromRequestFailed, fromSyncError, parseXmlDocument, serialize, toRequestFailed, toSyncError,
} from '../src/index.js';
import { CANONICAL, REFUSED, ROUND_TRIP } from './capture-fixtures.js';

/** Decodes one message with the codec its group and direction call for, and encodes it again. */
function reencode(group: string, fromClient: boolean, msg: Element): Element {
  if (group === 'InfDirectory') {
    return fromClient ? encodeDirectoryRequest(decodeDirectoryRequest(msg)) : encodeDirectoryReply(decodeDirectoryReply(msg));
  }
  switch (msg.name) {
    case 'request':
      return encodeRequest(decodeRequest(msg));
    case 'sync-request':
      return encodeSyncRequest(decodeSyncRequest(msg));
    case 'sync-user':
    case 'user-rejoin': {
      const u = decodeUser(msg);
      return encodeUser(msg.name, u, u.seq);
    }
    case 'user-join': {
      if (fromClient) return encodeUserJoinRequest(decodeUserJoinRequest(msg));
      const u = decodeUser(msg);
      return encodeUser('user-join', u, u.seq);
    }
    case 'sync-segment':
      return encodeSyncSegment(decodeSyncSegment(msg));
    case 'sync-begin':
      return encodeSyncBegin(decodeSyncBegin(msg).numMessages);
    case 'message':
      return encodeChatMessage(decodeChatMessage(msg));
    case 'user-status-change': {
      const d = decodeUserStatusChange(msg);
      return encodeUserStatusChange(d.id, d.status);
    }
    case 'user-color-change': {
      const d = decodeUserColorChange(msg);
      return encodeUserColorChange(d.id, d.hue);
    }
    case 'invalid-request':
      return encodeInvalidRequest(decodeInvalidRequest(msg));
    case 'request-failed': {
      const r = fromRequestFailed(msg);
      return toRequestFailed(r.error, r.seq);
    }
    case 'sync-error':
      return toSyncError(fromSyncError(msg));
    case 'sync-end':
    case 'sync-ack':
    case 'sync-cancel':
    case 'session-close':
    case 'session-unsubscribe':
      expect(msg.children).to.have.length(0);
      expect(Object.keys(msg.attrs)).to.have.length(0);
      return new Element(msg.name);
    default:
      throw new Error(`no codec for <${msg.name}>`);
  }
}

function roundTrip(bytes: string): string {
  const g = decodeGroup(parseXmlDocument(bytes));
  const fromClient = g.publisher === 'you';
  return serialize(encodeGroup(g.name, g.messages.map((m) => reencode(g.name, fromClient, m)), g.publisher));
}

describe('capture fixtures', () => {
  for (const [file, bytes] of ROUND_TRIP) {
    it(`decodes and re-encodes byte for byte (${file}): ${bytes.slice(0, 90)}`, () => {
      expect(roundTrip(bytes)).to.equal(bytes);
    });
  }

  for (const [file, bytes, canonical] of CANONICAL) {
    it(`decodes a raw-client variant and writes libinfinity's form (${file}): ${bytes.slice(0, 80)}`, () => {
      expect(roundTrip(bytes)).to.equal(canonical);
      expect(roundTrip(canonical)).to.equal(canonical);
    });
  }

  for (const [file, bytes, expected] of REFUSED) {
    it(`refuses what infinoted refused, with its error (${file}): ${bytes.slice(0, 80)}`, () => {
      const [domain, code, ...rest] = expected.split(':');
      let err: unknown;
      try {
        roundTrip(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InfError);
      const e = err as InfError;
      expect([e.domain, e.code, e.message]).to.deep.equal([domain, Number(code), rest.join(':')]);
    });
  }

  it('yields the same stanzas when all server fixtures arrive as one stream, one byte at a time', () => {
    const server = ROUND_TRIP.map(([, b]) => b).filter((b) => !b.startsWith('<group publisher'));
    const header = '<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0" from="vm">';
    const bytes = new TextEncoder().encode(header + server.join('') + '</stream:stream>');
    const p = new XmlParser();
    const got: string[] = [];
    let closed = false;
    for (const b of bytes) {
      p.push(Uint8Array.of(b));
      for (let ev = p.next(); ev; ev = p.next()) {
        if (ev.type === 'element') got.push(serialize(ev.element));
        else if (ev.type === 'close') closed = true;
        else if (ev.type === 'error') throw ev.error;
      }
    }
    expect(got).to.deep.equal(server);
    expect(closed).to.equal(true);
  });

  it('splits a multi-byte character across chunks without damage', () => {
    const text = '<group name="InfSession_1"><request user="1" time=""><insert-caret pos="0">ä€😀</insert-caret></request></group>';
    const bytes = new TextEncoder().encode('<stream:stream>' + text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new XmlParser();
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      const evs = [p.next(), p.next()];
      expect(evs[1]?.type, `cut at ${cut}`).to.equal('element');
      if (evs[1]?.type === 'element') expect(serialize(evs[1].element)).to.equal(text);
    }
  });
});
