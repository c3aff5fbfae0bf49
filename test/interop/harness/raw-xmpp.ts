// A raw XMPP client for interop tests that need exact bytes or to misbehave on purpose: plain TCP
// or STARTTLS (optionally presenting a client certificate), SASL ANONYMOUS, the welcome, the root
// explored; then strings in and out. Every byte received is kept as text.
import { connect as netConnect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect } from 'node:tls';

export const STREAM_HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
const HEADER = STREAM_HEADER;

/** `<group publisher="you" name=NAME>BODY</group>`, and the same for the directory. */
export const group = (name: string, body: string): string => `<group publisher="you" name="${name}">${body}</group>`;
export const dir = (body: string): string => group('InfDirectory', body);

/** A raw XMPP client: every byte it receives is kept as text, `until` waits for a string. */
export class RawXmpp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private out: Socket;
  private closed = false;

  constructor(port: number) {
    this.out = netConnect(port, '127.0.0.1');
    // A message and the barrier after it are two writes: without this, Nagle's algorithm holds
    // the second back for the first one's (delayed) acknowledgement, 40 ms a time.
    this.out.setNoDelay(true);
    this.attach(this.out);
    this.out.on('connect', () => this.out.write(HEADER));
  }

  private attach(s: Socket): void {
    // A character's bytes may arrive in two reads: decoded across them, not read by read.
    const utf8 = new StringDecoder('utf8');
    s.on('data', (b: Buffer) => {
      this.buffer += utf8.write(b);
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('error', () => undefined);
  }

  send(s: string): void {
    this.out.write(s);
  }

  /** Everything up to and including `s`, taken from the buffer. */
  async until(s: string, ms = 20000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buffer.indexOf(s);
      if (i >= 0) {
        const out = this.buffer.slice(0, i + s.length);
        this.buffer = this.buffer.slice(i + s.length);
        return out;
      }
      if (this.closed) throw new Error(`connection closed before "${s}"; have: ${this.buffer.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${s}"; have: ${this.buffer.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  get pending(): string {
    return this.buffer;
  }

  /** Stops reading: what the server sends piles up in the socket buffers, then in the server. */
  pause(): void {
    this.out.pause();
  }

  resume(): void {
    this.out.resume();
  }

  /** The welcome of the last login. */
  welcome = '';

  /** The answer to the last login's exploration of the root (its add-node messages). */
  explored = '';

  /**
   * STARTTLS when `tls` is given (presenting its key and certificate if any), SASL ANONYMOUS, the
   * welcome; then explores the root. Returns the welcome's sequence id.
   */
  async login(name: string, tls?: { key?: string; cert?: string }): Promise<string> {
    if (tls) {
      await this.until('</stream:features>');
      this.send('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
      await this.until('<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
      const raw = this.out;
      raw.removeAllListeners('data');
      raw.removeAllListeners('close');
      const secure = tlsConnect({ socket: raw, rejectUnauthorized: false, ...tls });
      this.out = secure;
      this.attach(secure);
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      this.send(HEADER);
    }
    await this.until('</stream:features>');
    this.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await this.until('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    this.send(`<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from(name).toString('base64')}</response>`);
    await this.until('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>');
    this.send(HEADER);
    this.welcome = await this.until('</welcome></group>');
    const seqId = /sequence-id="(\d+)"/.exec(this.welcome)![1]!;
    this.send(dir('<explore-node seq="0" id="0"/>'));
    this.explored = await this.until(`<explore-end seq="${seqId}/0"/></group>`);
    return seqId;
  }

  close(): void {
    this.out.destroy();
  }

  /** Ends the stream (`</stream:stream>`) and waits until the server has closed the connection. */
  async hangUp(ms = 5000): Promise<void> {
    this.send('</stream:stream>');
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    this.out.destroy();
  }
}
