// What the protocol-level tests share: a byte-level XMPP client over an in-memory pair (or any
// duplex), the stream header, group envelopes and the ANONYMOUS login.
import { Duplex, PassThrough } from 'node:stream';
import type { TransportInfo } from '../src/connection/connection.js';
import type { TandemServer } from '../src/server.js';

export const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';

export const group = (name: string, body: string): string => `<group publisher="you" name="${name}">${body}</group>`;
export const dir = (body: string): string => group('InfDirectory', body);

export interface WireClient {
  send(s: string): void;
  /** Everything received up to and including the first match of `until`; fails after ~5 s. */
  next(until: RegExp | string): Promise<string>;
  /** What arrived and was not taken by next() yet. */
  readonly pending: string;
}

/** A client that writes with `write`; whatever the server sends goes to `feed`. */
export function wireClient(write: (s: string) => void): WireClient & { feed(b: Buffer): void } {
  let buffer = '';
  return {
    feed: (b: Buffer) => void (buffer += b.toString('utf8')),
    send: write,
    async next(until: RegExp | string): Promise<string> {
      for (let i = 0; i < 1000; i++) {
        const idx = typeof until === 'string' ? buffer.indexOf(until) : buffer.search(until);
        if (idx >= 0) {
          const m = typeof until === 'string' ? until : buffer.match(until)![0];
          const out = buffer.slice(0, idx + m.length);
          buffer = buffer.slice(idx + m.length);
          return out;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`timed out waiting for ${until}; have: ${buffer}`);
    },
    get pending() {
      return buffer;
    },
  };
}

export type PairClient = WireClient & {
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
};

/** The client end of an in-memory connection to `server`. */
export function pair(server: TandemServer, transport: TransportInfo = {}): PairClient {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  let closed = false;
  const whenClosed = new Promise<void>((resolve) => {
    const done = (): void => {
      closed = true;
      resolve();
    };
    toClient.on('end', done);
    toClient.on('close', done);
  });
  const c = wireClient((s) => void (toServer.writable && toServer.write(s)));
  toClient.on('data', c.feed);
  server.handle(Duplex.from({ readable: toServer, writable: toClient }), transport);
  return {
    send: c.send,
    next: c.next,
    get pending() {
      return c.pending;
    },
    closed: whenClosed,
    get isClosed() {
      return closed;
    },
  };
}

/** ANONYMOUS login with `name` (base64); returns the welcome. */
export async function login(c: WireClient, name = 'YWxpY2U='): Promise<string> {
  c.send(HEADER);
  await c.next('</stream:features>');
  c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  await c.next('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
  c.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${name}</response>`);
  await c.next('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
  c.send(HEADER);
  return c.next('</welcome></group>');
}
