import { expect } from 'chai';
import { ServerStream, XmlParser, type ServerAction } from '../src/index.js';

const C_HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const AUTH_ANON = '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>';
const RESPONSE = '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>';

/** A server stream already past authentication, so stanzas are accepted. */
function openStream(limits?: { maxElementBytes?: number; maxDepth?: number }): ServerStream {
  const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'], limits });
  for (const a of s.receive(C_HEADER + AUTH_ANON + RESPONSE)) if (a.type === 'authenticate') s.authResult({ ok: true });
  s.receive(C_HEADER);
  expect(s.isOpen).to.equal(true);
  return s;
}

function streamErrorOf(actions: ServerAction[]): string | undefined {
  const close = actions.find((a) => a.type === 'close');
  return close?.type === 'close' ? close.condition : undefined;
}

const sent = (actions: ServerAction[]) => actions.filter((a) => a.type === 'send').map((a) => (a.type === 'send' ? a.data : '')).join('');

describe('malformed input', () => {
  it('answers an unclosed tag with bad-format and closes', () => {
    const a = openStream().receive('<group name="InfDirectory"><explore-node seq="0" id="0"></group>');
    expect(streamErrorOf(a)).to.equal('bad-format');
    expect(sent(a)).to.equal('<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>');
  });

  for (const [what, bytes] of [
    ['a stray 0xFF byte', [0x3c, 0x61, 0x3e, 0xff, 0x3c]],
    ['an overlong encoding of "/"', [0x3c, 0x61, 0x3e, 0xc0, 0xaf]],
    ['a lone continuation byte', [0x3c, 0x61, 0x3e, 0x80]],
    ['an encoded surrogate', [0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80]],
  ] as const) {
    it(`answers invalid UTF-8 (${what}) with bad-format`, () => {
      expect(streamErrorOf(openStream().receive(Uint8Array.from(bytes)))).to.equal('bad-format');
    });
  }

  it('refuses a DOCTYPE (entity bomb) without expanding anything', () => {
    const bomb = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><group name="x">&lol2;</group>';
    expect(streamErrorOf(openStream().receive(bomb))).to.equal('restricted-xml');
  });

  it('refuses undeclared entities and references to non-characters', () => {
    expect(streamErrorOf(openStream().receive('<group name="x">&lol;</group>'))).to.equal('bad-format');
    expect(streamErrorOf(openStream().receive('<group name="x">&#0;</group>'))).to.equal('bad-format');
    expect(streamErrorOf(openStream().receive('<group name="x">&#xD800;</group>'))).to.equal('bad-format');
  });

  it('stops a 10 MB element at the size limit instead of buffering it', () => {
    const s = openStream();
    const chunk = new TextEncoder().encode('a'.repeat(256 * 1024));
    let actions = s.receive('<group name="InfSession_1"><request user="1" time=""><insert-caret pos="0">');
    let fed = 0;
    while (!s.isClosed && fed < 10 * 1024 * 1024) {
      actions = s.receive(chunk);
      fed += chunk.length;
    }
    expect(streamErrorOf(actions)).to.equal('policy-violation');
    expect(fed).to.be.below(9 * 1024 * 1024);
    expect(s.receive(chunk)).to.deep.equal([]);
  });

  it('stops a 10 MB element given in one piece', () => {
    const big = '<group name="x">' + 'b'.repeat(10 * 1024 * 1024) + '</group>';
    expect(streamErrorOf(openStream().receive(big))).to.equal('policy-violation');
  });

  it('honours a configured smaller size limit', () => {
    const s = openStream({ maxElementBytes: 100 });
    expect(s.receive('<group name="x">' + 'c'.repeat(50) + '</group>').some((a) => a.type === 'stanza')).to.equal(true);
    expect(streamErrorOf(s.receive('<group name="x">' + 'c'.repeat(200) + '</group>'))).to.equal('policy-violation');
  });

  it('stops 10,000-deep nesting at the depth limit', () => {
    const deep = '<a>'.repeat(10000) + '</a>'.repeat(10000);
    expect(streamErrorOf(openStream().receive(deep))).to.equal('policy-violation');
    const s = openStream({ maxDepth: 4 });
    expect(s.receive('<group name="x"><a><b/></a></group>').some((a) => a.type === 'stanza')).to.equal(true);
    expect(streamErrorOf(s.receive('<group name="x"><a><b><c/></b></a></group>'))).to.equal('policy-violation');
  });

  it('answers a stanza before authentication with not-authorized', () => {
    const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] });
    const a = s.receive(C_HEADER + '<group publisher="you" name="InfDirectory"><explore-node seq="0" id="0"/></group>');
    expect(streamErrorOf(a)).to.equal('not-authorized');
  });

  it('does not read a stanza that arrives while credentials are being checked', () => {
    const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] });
    const a = s.receive(C_HEADER + AUTH_ANON + RESPONSE + C_HEADER + '<group name="x"/>');
    expect(a.at(-1)?.type).to.equal('authenticate');
    const b = s.authResult({ ok: true });
    expect(b.map((x) => x.type)).to.deep.equal(['send', 'send', 'send', 'ready', 'stanza']);
  });

  it('handles the transport closing in the middle of a stanza', () => {
    const s = openStream();
    expect(s.receive('<group name="x"><reque')).to.deep.equal([]);
    expect(s.transportClosed()).to.deep.equal([{ type: 'close', reason: 'closed' }]);
  });

  it('survives random bytes without throwing (seeded)', () => {
    const seed = 0x5eed1234;
    let x = seed;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const alphabet = '<>/="\'&;#x!?-[]abc \n\u00e4\u20ac';
    for (let round = 0; round < 200; round++) {
      const s = openStream();
      const p = new XmlParser({ mode: 'document' });
      let text = '';
      for (let i = 0; i < 200; i++) text += alphabet[rnd() % alphabet.length];
      try {
        s.receive(text);
        s.receive(Uint8Array.from({ length: 50 }, rnd));
        p.push(text);
        while (p.next());
      } catch (e) {
        throw new Error(`seed ${seed} round ${round}: ${String(e)}`);
      }
    }
  });
});
