/**
 * One client connection: bytes in, XMPP negotiation, then `<group>` stanzas to the server's
 * dispatcher; elements out, serialised libxml2-exactly. Per-connection limits come from the
 * protocol package's parser (element size, nesting depth) plus a cap on unsent output, so a peer
 * that stops reading cannot make the server buffer without bound.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Element, XmlParser, defaultStreamLimits, escapeAttribute, serialize } from '@tandem/protocol';
import type { XmlLimits } from '@tandem/protocol';
import type { AuthPolicy } from '../auth.js';
import { type Action, NS_SASL, ServerNegotiation, type TlsPolicy, streamError } from './xmpp.js';

export interface ConnectionLimits extends XmlLimits {
  /** Unsent output above which the connection is closed (resource-constraint). */
  maxPendingOutputBytes: number;
}

export const defaultConnectionLimits: Readonly<ConnectionLimits> = Object.freeze({
  ...defaultStreamLimits,
  maxPendingOutputBytes: 64 * 1024 * 1024,
});

export interface TransportInfo {
  /** "[::ffff:127.0.0.1]:40000"-style peer id for logs. */
  remote?: string;
  /** Upgrades the socket to TLS (server side); absent for transports that cannot. */
  startTls?: () => Promise<Duplex>;
}

export interface ConnectionOptions {
  hostName: string;
  policy: TlsPolicy;
  auth: AuthPolicy;
  limits: ConnectionLimits;
  log: (line: string) => void;
}

export interface ConnectionEvents {
  /** The stream is open (authenticated); the directory sends its welcome. */
  open: [];
  /** A `<group>` container (any element with a name attribute) once open. */
  group: [name: string, container: Element];
  closed: [];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  private parser: XmlParser;
  private readonly negotiation: ServerNegotiation;
  private closing = false;
  private closedEmitted = false;
  user: string | undefined;

  constructor(
    private stream: Duplex,
    private readonly transport: TransportInfo,
    private readonly options: ConnectionOptions,
  ) {
    super();
    this.parser = this.newParser();
    this.negotiation = new ServerNegotiation(options.hostName, options.policy, options.auth, transport.startTls !== undefined);
    this.attach(stream);
  }

  get remote(): string {
    return this.transport.remote ?? 'local';
  }

  get isOpen(): boolean {
    return this.negotiation.isOpen && !this.closing;
  }

  private newParser(): XmlParser {
    const { maxElementBytes, maxDepth } = this.options.limits;
    return new XmlParser({ mode: 'stream', limits: { maxElementBytes, maxDepth } });
  }

  private readonly onData = (chunk: Buffer | string): void => {
    this.parser.push(chunk);
    this.drain();
  };
  private readonly onEnd = (): void => this.finish();
  private readonly onError = (err: Error): void => {
    this.options.log(`Connection error from ${this.remote}: ${err.message}`);
    this.finish();
  };

  private attach(stream: Duplex): void {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  private detach(stream: Duplex): void {
    stream.off('data', this.onData);
    stream.off('end', this.onEnd);
    stream.off('close', this.onEnd);
    stream.off('error', this.onError);
  }

  private drain(): void {
    while (!this.closing) {
      const ev = this.parser.next();
      if (!ev) return;
      switch (ev.type) {
        case 'open':
          this.run(this.negotiation.onHeader(ev.element));
          break;
        case 'element':
          if (this.negotiation.isOpen) this.dispatch(ev.element);
          else this.run(this.negotiation.onStanza(ev.element));
          break;
        case 'close':
          // Orderly close: answer with our footer, then end (protocol.md §1.7).
          this.end();
          return;
        case 'error':
          this.options.log(`Malformed XML from ${this.remote}: ${ev.error.message}`);
          this.fail(ev.error.condition);
          return;
      }
    }
  }

  private dispatch(el: Element): void {
    const name = el.attrs.name;
    // Any top-level element with a name attribute is a group container (inf-communication-registry.c).
    if (typeof name !== 'string') return;
    try {
      this.emit('group', name, el);
    } catch (err) {
      this.options.log(`Internal error handling a message from ${this.remote}: ${(err as Error).stack ?? err}`);
    }
  }

  private run(actions: Action[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          this.write(typeof a.data === 'string' ? a.data : serialize(a.data));
          break;
        case 'starttls':
          this.startTls();
          return;
        case 'restart':
          this.parser.restart();
          break;
        case 'authenticated':
          this.user = a.user;
          this.options.log(`User ${a.user} logged in from ${this.remote} via ${a.mechanism === 'PLAIN' ? 'password' : 'anonymous'}`);
          break;
        case 'open':
          this.emit('open');
          break;
        case 'close':
          if (a.abortSasl) this.write(`<abort xmlns="${NS_SASL}"/>`);
          this.fail(a.condition);
          return;
      }
    }
  }

  private startTls(): void {
    const upgrade = this.transport.startTls!;
    const old = this.stream;
    this.detach(old);
    // Nothing the client sends before the handshake belongs to the new stream.
    this.parser = this.newParser();
    old.write(`<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`);
    upgrade().then((secure) => {
      if (this.closing) {
        secure.destroy();
        return;
      }
      this.stream = secure;
      this.attach(secure);
      this.negotiation.onTlsEstablished();
    }, (err: Error) => {
      // A failed handshake just ends the connection; no <failure/> (protocol.md §1.4).
      this.options.log(`TLS handshake with ${this.remote} failed: ${err.message}`);
      this.closing = true;
      old.destroy();
      this.finish();
    });
  }

  private write(data: string): void {
    if (this.closing || this.stream.destroyed) return;
    this.stream.write(data);
    if (this.stream.writableLength > this.options.limits.maxPendingOutputBytes) {
      this.options.log(`Closing ${this.remote}: it does not read what it is sent`);
      this.closing = true;
      this.stream.destroy();
      this.finish();
    }
  }

  /** Sends elements in one `<group name=...>` container each (the server never writes publisher). */
  sendGroup(group: string, ...messages: Element[]): void {
    if (!this.isOpen) return;
    let out = '';
    for (const m of messages) out += `<group name="${escapeAttribute(group)}">${serialize(m)}</group>`;
    this.write(out);
  }

  /** Stream error (if any), footer, close. */
  fail(condition?: string): void {
    if (this.closing) return;
    this.write((condition ? streamError(condition) : '') + '</stream:stream>');
    this.end();
  }

  /** Orderly close: footer then end of the transport. */
  end(): void {
    if (this.closing) return;
    this.write('</stream:stream>');
    this.closing = true;
    this.negotiation.close();
    this.stream.end();
    // A peer that never closes its side must not keep the socket around forever.
    setTimeout(() => this.stream.destroy(), 5000).unref();
    this.finish();
  }

  /** Immediate teardown, used on server shutdown after sending the footer. */
  destroy(): void {
    this.closing = true;
    this.stream.destroy();
    this.finish();
  }

  private finish(): void {
    this.closing = true;
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit('closed');
  }
}

