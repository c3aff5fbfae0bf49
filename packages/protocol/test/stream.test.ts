import { expect } from 'chai';
import {
  ClientStream, InfError, ServerStream, type ClientAction, type ServerAction, type ServerStreamOptions,
} from '../src/index.js';

/**
 * Transcripts of real exchanges with infinoted 0.7.2 (captures 01, 04, 04a, 04b, 05): 'C' is what
 * the client sent, 'S' what infinoted answered. '*TLS*' marks the STARTTLS handshake.
 */
type Step = ['C' | 'S', string] | ['*TLS*'];

const C_HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const S_HEADER = '<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0" from="vm">';
const MECH_ANON = '<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>ANONYMOUS</mechanism></mechanisms>';
const MECH_PLAIN = '<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms>';
const AUTH_ANON = '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>';
const AUTH_PLAIN = '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"/>';
const CHALLENGE = '<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>';
const SUCCESS = '<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>';
const NOT_AUTHORIZED = '<stream:error><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>';
const EXPLORE = '<group publisher="you" name="InfDirectory"><explore-node seq="0" id="0"/></group>';
const CLOSE = '</stream:stream>';

const TRANSCRIPTS: Record<string, { server: ServerStreamOptions; steps: Step[]; libinfinityClient?: { plain?: boolean } }> = {
  'no-tls ANONYMOUS login (01)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] },
    libinfinityClient: {},
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>'],
      ['S', SUCCESS],
      ['C', C_HEADER],
      ['S', S_HEADER + '<stream:features/>'],
      ['C', EXPLORE],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'PLAIN login with password (04)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    libinfinityClient: { plain: true },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">AGFsaWNlAHNlY3JldA==</response>'],
      ['S', SUCCESS],
      ['C', C_HEADER],
      ['S', S_HEADER + '<stream:features/>'],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'wrong password, then retry on the same stream (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">AGV2ZQBiYWQ=</response>'],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>'],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YXV0aHoAZXZlAHNlY3JldA==</response>'],
      ['S', SUCCESS],
      ['C', C_HEADER],
      ['S', S_HEADER + '<stream:features/>'],
      ['C', '   \n  '],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'ANONYMOUS refused by a password server, abort, unknown mechanism (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><invalid-mechanism/></failure>'],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<abort xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><aborted/></failure>'],
      ['C', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="DIGEST-MD5"/>'],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><invalid-mechanism/></failure>'],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'initial response ignored, second auth ignored, close aborts the exchange (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">emlkAGV2ZQBub3Bl</auth>'],
      ['S', CHALLENGE],
      ['C', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AGV2ZQBzZWNyZXQ=</auth>'],
      ['C', CLOSE],
      ['S', '<abort xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/></stream:stream>'],
    ],
  },
  'bad base64 (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">!!!notbase64</response>'],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><incorrect-encoding/></failure>'],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'a group before authentication (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', '<group name="InfDirectory" publisher="you"><explore-node seq="0" id="0"/></group>'],
      ['S', NOT_AUTHORIZED],
    ],
  },
  'other elements ignored while SASL runs, empty PLAIN token asked again, stream errors before login ignored (fuzzer, 2026-12-03)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', '<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>'],
      ['C', AUTH_PLAIN],
      ['S', CHALLENGE],
      ['C', '<iq type="get"/><success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['C', '<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>'],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl"></response>'],
      ['S', CHALLENGE],
      // An empty authcid with the right password logs in (GSASL's PLAIN takes it).
      ['C', `<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from('\0\0secret').toString('base64')}</response>`],
      ['S', SUCCESS],
      // A stanza where the new header belongs: infinoted drops the connection without a word.
      ['C', EXPLORE],
    ],
  },
  'malformed XML (04a)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`],
      ['C', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN"></oops>'],
      ['S', '<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></stream:stream>'],
    ],
  },
  'empty ANONYMOUS token, then a stray response (04b)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl"></response>'],
      ['S', '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><invalid-mechanism/></failure>'],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'],
      ['S', NOT_AUTHORIZED],
    ],
  },
  'starttls on a no-tls server (04b)': {
    server: { host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`],
      ['C', '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['S', NOT_AUTHORIZED],
    ],
  },
  'allow-tls with STARTTLS (05)': {
    server: { host: 'vm', policy: 'allow-tls', mechanisms: ['ANONYMOUS'] },
    libinfinityClient: {},
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>${MECH_ANON}</stream:features>`],
      ['C', '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['S', '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['*TLS*'],
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">dGxzdXNlcg==</response>'],
      ['S', SUCCESS],
      ['C', C_HEADER],
      ['S', S_HEADER + '<stream:features/>'],
      ['C', EXPLORE],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'require-tls with STARTTLS (05)': {
    server: { host: 'vm', policy: 'require-tls', mechanisms: ['ANONYMOUS'] },
    libinfinityClient: {},
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>${MECH_ANON}</stream:features>`],
      ['C', '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['S', '<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>'],
      ['*TLS*'],
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', CHALLENGE],
      ['C', '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">dGxzdXNlcg==</response>'],
      ['S', SUCCESS],
      ['C', C_HEADER],
      ['S', S_HEADER + '<stream:features/>'],
      ['C', CLOSE],
      ['S', CLOSE],
    ],
  },
  'require-tls refuses auth without STARTTLS (05)': {
    server: { host: 'vm', policy: 'require-tls', mechanisms: ['ANONYMOUS'] },
    steps: [
      ['C', C_HEADER],
      ['S', S_HEADER + `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>${MECH_ANON}</stream:features>`],
      ['C', AUTH_ANON],
      ['S', NOT_AUTHORIZED],
    ],
  },
};

/** Answers 'authenticate' like infinoted with --password=secret. */
function answer(s: ServerStream, a: ServerAction): ServerAction[] {
  if (a.type !== 'authenticate') return [];
  const c = a.credentials;
  if (c.mechanism === 'ANONYMOUS' || c.password === 'secret') return s.authResult({ ok: true });
  return s.authResult({ ok: false, condition: 'not-authorized', detail: new InfError('INF_AUTHENTICATION_DETAIL_ERROR', 0) });
}

function runServer(opts: ServerStreamOptions, steps: Step[], split: (s: string) => string[]): string[] {
  const s = new ServerStream(opts);
  const out: string[] = [];
  const take = (actions: ServerAction[]): void => {
    for (const a of actions) {
      if (a.type === 'send') out.push(a.data);
      take(answer(s, a));
    }
  };
  for (const step of steps) {
    if (step[0] === '*TLS*') take(s.tlsEstablished());
    else if (step[0] === 'C') for (const part of split(step[1])) take(s.receive(new TextEncoder().encode(part)));
  }
  return out;
}

function expectedServerBytes(steps: Step[]): string {
  return steps.filter((s): s is ['S', string] => s[0] === 'S').map((s) => s[1]).join('');
}

describe('ServerStream', () => {
  for (const [name, t] of Object.entries(TRANSCRIPTS)) {
    it(`answers exactly as infinoted: ${name}`, () => {
      expect(runServer(t.server, t.steps, (x) => [x]).join('')).to.equal(expectedServerBytes(t.steps));
    });
    it(`answers the same when fed one byte at a time: ${name}`, () => {
      const oneByte = (x: string) => [...new TextEncoder().encode(x)].map((b) => String.fromCharCode(b));
      const s = new ServerStream(t.server);
      const out: string[] = [];
      const take = (actions: ServerAction[]): void => {
        for (const a of actions) {
          if (a.type === 'send') out.push(a.data);
          take(answer(s, a));
        }
      };
      for (const step of t.steps) {
        if (step[0] === '*TLS*') take(s.tlsEstablished());
        else if (step[0] === 'C') for (const b of oneByte(step[1])) take(s.receive(Uint8Array.of(b.charCodeAt(0))));
      }
      expect(out.join('')).to.equal(expectedServerBytes(t.steps));
    });
  }

  it('reports the authenticated stream, its stanzas and the close in order', () => {
    const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] });
    const all: ServerAction[] = [];
    const feed = (x: string) => {
      for (const a of s.receive(x)) {
        all.push(a);
        if (a.type === 'authenticate') {
          expect(a.credentials).to.deep.equal({ mechanism: 'ANONYMOUS', trace: 'alice' });
          all.push(...s.authResult({ ok: true }));
        }
      }
    };
    // Everything in one chunk: the restart header arrives with the response.
    feed(C_HEADER + AUTH_ANON + '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>' + C_HEADER + EXPLORE + CLOSE);
    const kinds = all.map((a) => a.type);
    expect(kinds).to.deep.equal(['send', 'send', 'send', 'authenticate', 'send', 'send', 'send', 'ready', 'stanza', 'send', 'close']);
    const stanza = all.find((a) => a.type === 'stanza');
    expect(stanza && stanza.type === 'stanza' && stanza.element.name).to.equal('group');
    expect(s.isClosed).to.equal(true);
  });

  it('closes without a stream error when the first element is not a stream header', () => {
    const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['ANONYMOUS'] });
    const actions = s.receive('<hello/>');
    expect(actions.filter((a) => a.type === 'send')).to.deep.equal([]);
    expect(actions.at(-1)).to.deep.include({ type: 'close', reason: 'not-a-stream' });
  });

  it('decodes PLAIN credentials with an authzid', () => {
    const s = new ServerStream({ host: 'vm', policy: 'no-tls', mechanisms: ['PLAIN'] });
    const actions = s.receive(C_HEADER + AUTH_PLAIN + '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YXV0aHoAZXZlAHNlY3JldA==</response>');
    expect(actions.at(-1)).to.deep.equal({ type: 'authenticate', credentials: { mechanism: 'PLAIN', authzid: 'authz', authcid: 'eve', password: 'secret' } });
  });
});

describe('ClientStream', () => {
  for (const [name, t] of Object.entries(TRANSCRIPTS)) {
    if (!t.libinfinityClient) continue;
    it(`sends exactly what a libinfinity client sends: ${name}`, () => {
      const policy = t.server.policy === 'no-tls' ? 'no-tls' : 'allow-tls';
      const c = new ClientStream({
        host: 'localhost',
        policy,
        sasl: t.libinfinityClient!.plain ? { plain: { authcid: 'alice', password: 'secret' } } : { anonymous: { trace: t.server.policy === 'no-tls' ? 'alice' : 'tlsuser' } },
      });
      const sent: string[] = [];
      const events: string[] = [];
      const take = (actions: ClientAction[]) => {
        for (const a of actions) {
          if (a.type === 'send') sent.push(a.data);
          else events.push(a.type);
        }
      };
      take(c.start());
      // The client sends only until the stream is open; the test then closes it like the capture.
      for (const step of t.steps) {
        if (step[0] === '*TLS*') take(c.tlsEstablished());
        else if (step[0] === 'S' && step[1] !== CLOSE) for (const ch of step[1]) take(c.receive(ch));
      }
      expect(events).to.include('ready');
      if (t.server.policy !== 'no-tls') expect(events).to.include('starttls');
      take(c.close());
      take(c.receive(CLOSE));
      const expected = t.steps.filter((s): s is ['C', string] => s[0] === 'C' && s[1] !== EXPLORE).map((s) => s[1]).join('');
      expect(sent.join('')).to.equal(expected);
      expect(events.at(-1)).to.equal('close');
    });
  }

  it('gives up with the libinfinity message when TLS is required but the policy is no-tls', () => {
    const c = new ClientStream({ host: 'h', policy: 'no-tls', sasl: { anonymous: { trace: 'x' } } });
    c.start();
    const actions = c.receive(S_HEADER + `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>${MECH_ANON}</stream:features>`);
    expect(actions.at(-1)).to.deep.include({ type: 'close', reason: 'error', message: 'The server requires transport layer security (TLS)', refusal: 'tls-required' });
  });

  it('names its refusal when TLS is required by the policy but not offered', () => {
    const c = new ClientStream({ host: 'h', policy: 'require-tls', sasl: { anonymous: { trace: 'x' } } });
    c.start();
    const actions = c.receive(S_HEADER + `<stream:features>${MECH_ANON}</stream:features>`);
    expect(actions.at(-1)).to.deep.include({ type: 'close', reason: 'error', refusal: 'tls-unavailable' });
  });

  it('names its refusal and reports the offer when no configured mechanism is offered', () => {
    const c = new ClientStream({ host: 'h', policy: 'no-tls', sasl: { anonymous: { trace: 'x' } } });
    c.start();
    const actions = c.receive(S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`);
    expect(actions.at(-1)).to.deep.include({ type: 'close', reason: 'error', refusal: 'no-mechanism' });
    expect(c.offeredMechanisms).to.deep.equal(['PLAIN']);
  });

  it('reports a failure with its detail and retries on the same stream', () => {
    const c = new ClientStream({ host: 'h', policy: 'no-tls', sasl: { plain: { authcid: 'eve', password: 'bad' } } });
    c.start();
    c.receive(S_HEADER + `<stream:features>${MECH_PLAIN}</stream:features>`);
    c.receive(CHALLENGE);
    const failed = c.receive('<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized><error code="0" domain="INF_AUTHENTICATION_DETAIL_ERROR">User did not provide valid credentials.</error></not-authorized></failure>');
    expect(failed).to.have.length(1);
    const f = failed[0]!;
    expect(f.type === 'auth-failed' && f.condition).to.equal('not-authorized');
    expect(f.type === 'auth-failed' && f.detail?.is('INF_AUTHENTICATION_DETAIL_ERROR', 0)).to.equal(true);
    expect(c.retry({ plain: { authcid: 'eve', password: 'secret' } })).to.deep.equal([{ type: 'send', data: AUTH_PLAIN }]);
    expect(c.receive(CHALLENGE)).to.deep.equal([{ type: 'send', data: '<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">AGV2ZQBzZWNyZXQ=</response>' }]);
  });
});
