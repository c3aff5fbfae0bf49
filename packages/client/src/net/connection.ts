// One connection to an infinoted-compatible server: TCP, optional STARTTLS with trust on first
// use, SASL ANONYMOUS or PLAIN, then a stream of <group> containers (protocol.md §1, §2).
// Mirrors what a libinfinity client (inf-xmpp-connection.c, client side) sends, byte for byte.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { ClientError, withTimeout } from '../errors.js';
import { KnownServers, formatFingerprint } from './known-servers.js';
import { Element, StanzaReader, serialize, streamHeader } from './xml.js';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** libinfinity's default port (inf_protocol_get_default_port). */
export const DEFAULT_PORT = 6523;

export interface ConnectOptions {
  host?: string;
  port?: number;
  /** true: TLS is required; false: never STARTTLS; undefined (default): STARTTLS when offered. */
  tls?: boolean;
  /** Skip the certificate pin check. */
  insecure?: boolean;
  /** Where certificate pins are kept; default $XDG_CONFIG_HOME/tandem (see KnownServers). */
  knownServers?: KnownServers;
  /** SASL identity: the ANONYMOUS trace token (Gobby sends the user name) or PLAIN's authcid. */
  user?: string;
  /** Use SASL PLAIN with this password. */
  password?: string;
  /** Milliseconds to wait for each negotiation step (default 30000). */
  timeoutMs?: number;
}

type Incoming = { kind: 'open'; el: Element } | { kind: 'stanza'; el: Element } | { kind: 'close' };

export interface ConnectionEvents {
  /** A message of group `group` (each child of a <group> container, in order). */
  message: [group: string, message: Element];
  /** The connection is gone; `error` says why if it was not an orderly close. */
  close: [error?: Error];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  private socket: net.Socket;
  private reader: StanzaReader;
  private queue: Incoming[] = [];
  private waiter: ((item: Incoming | Error) => void) | undefined;
  private failure: Error | undefined;
  private negotiated = false;
  private paused = true;
  private closed = false;
  /** SHA-256 fingerprint of the server certificate when TLS is in use. */
  fingerprint: string | undefined;
  readonly host: string;
  readonly port: number;

  private constructor(socket: net.Socket, host: string, port: number) {
    super();
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.reader = this.makeReader();
    this.listen(socket);
  }

  /** Connects, negotiates TLS and SASL and resolves once the stream is ready for groups. */
  static async open(options: ConnectOptions = {}): Promise<Connection> {
    const host = options.host ?? 'localhost';
    const port = options.port ?? DEFAULT_PORT;
    const timeoutMs = options.timeoutMs ?? 30000;
    const socket = await withTimeout(
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port });
        s.once('connect', () => {
          s.removeAllListeners('error');
          resolve(s);
        });
        s.once('error', (err) => reject(new ClientError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${err.message}`)));
      }),
      timeoutMs,
      `a TCP connection to ${host}:${port}`,
    );
    socket.setKeepAlive(true, 60000);
    socket.setNoDelay(true);
    const conn = new Connection(socket, host, port);
    try {
      await conn.negotiate(options, timeoutMs);
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return conn;
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** Sends messages in one <group publisher="you" name=...> container per message, as libinfinity does. */
  send(group: string, ...messages: Element[]): void {
    if (this.closed) throw new ClientError('CLOSED', 'the connection is closed');
    let out = '';
    for (const m of messages) {
      const container = new Element('group', { publisher: 'you', name: group });
      container.children.push(m);
      out += serialize(container);
    }
    this.socket.write(out);
  }

  /** Orderly close: `</stream:stream>`, wait briefly for the server's, then close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ended = new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
    });
    try {
      this.socket.write('</stream:stream>');
      this.socket.end();
    } catch {
      // Socket already gone: nothing to say goodbye to.
    }
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await ended;
    clearTimeout(timer);
  }

  private destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private makeReader(): StanzaReader {
    return new StanzaReader({
      open: (el) => this.incoming({ kind: 'open', el }),
      stanza: (el) => this.incoming({ kind: 'stanza', el }),
      close: () => this.incoming({ kind: 'close' }),
      error: (err) => this.fail(new ClientError('PROTOCOL', `the server sent malformed XML: ${err.message}`)),
    });
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (err) => this.fail(new ClientError('CONNECT_FAILED', `connection to ${this.host}:${this.port} failed: ${err.message}`)));
    socket.on('close', () => {
      if (!this.closed) this.fail(new ClientError('CLOSED', `the server closed the connection`));
      else this.emit('close');
    });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const wasClosed = this.closed;
    this.closed = true;
    this.socket.destroy();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(err);
    }
    if (this.negotiated && !wasClosed) this.emit('close', err);
  }

  private incoming(item: Incoming): void {
    if (this.negotiated && !this.paused) {
      if (item.kind === 'stanza') this.dispatch(item.el);
      else if (item.kind === 'close') {
        // The server ends the stream (e.g. shutdown): answer and close (protocol.md §1.7).
        if (!this.closed) {
          this.closed = true;
          this.socket.end('</stream:stream>');
          this.emit('close', new ClientError('CLOSED', 'the server closed the stream'));
        }
      }
      return;
    }
    if (this.waiter && !this.negotiated) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
    } else {
      this.queue.push(item);
    }
  }

  private dispatch(el: Element): void {
    if (el.name === 'stream:error') {
      const condition = el.children.find((c): c is Element => typeof c !== 'string')?.name ?? 'undefined-condition';
      this.fail(new ClientError('PROTOCOL', `the server ended the stream: ${condition}`));
      return;
    }
    // Any top-level element with a name attribute is a group container (protocol.md §2.1).
    const group = el.attrs.name;
    if (typeof group !== 'string') return;
    for (const child of el.children) {
      if (typeof child !== 'string') this.emit('message', group, child);
    }
  }

  private next(timeoutMs: number, what: string): Promise<Incoming> {
    if (this.failure) return Promise.reject(this.failure);
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return withTimeout(
      new Promise<Incoming>((resolve, reject) => {
        this.waiter = (item) => (item instanceof Error ? reject(item) : resolve(item));
      }),
      timeoutMs,
      what,
    );
  }

  private async nextStanza(timeoutMs: number, what: string): Promise<Element> {
    for (;;) {
      const item = await this.next(timeoutMs, what);
      if (item.kind === 'close') throw new ClientError('CLOSED', `the server ended the stream while waiting for ${what}`);
      if (item.kind === 'open') continue;
      if (item.el.name === 'stream:error') {
        const condition = item.el.children.find((c): c is Element => typeof c !== 'string')?.name ?? 'undefined-condition';
        throw new ClientError('PROTOCOL', `the server refused the stream (${condition}) while waiting for ${what}`);
      }
      return item.el;
    }
  }

  /** Opens a (new) stream and returns the server's features. */
  private async openStream(timeoutMs: number): Promise<Element> {
    this.socket.write(streamHeader(this.host));
    const features = await this.nextStanza(timeoutMs, 'the server stream features');
    if (features.name !== 'stream:features') {
      throw new ClientError('PROTOCOL', `expected <stream:features>, the server sent <${features.name}>`);
    }
    return features;
  }

  private async negotiate(options: ConnectOptions, timeoutMs: number): Promise<void> {
    let features = await this.openStream(timeoutMs);
    const starttls = features.getChild('starttls');
    if (starttls) {
      if (options.tls === false) {
        if (starttls.getChild('required')) {
          throw new ClientError('TLS_REQUIRED', `${this.host}:${this.port} requires TLS; drop --no-tls`);
        }
      } else {
        await this.startTls(options, timeoutMs);
        features = await this.openStream(timeoutMs);
      }
    } else if (options.tls === true && !this.secure) {
      throw new ClientError('TLS_UNAVAILABLE', `${this.host}:${this.port} does not offer TLS (try --no-tls)`);
    }
    await this.authenticate(features, options, timeoutMs);
    // After SASL success: a fresh stream whose features are empty (protocol.md §1.6).
    this.reader.restart();
    await this.openStream(timeoutMs);
    this.negotiated = true;
  }

  /** Starts delivering 'message' events (including those that arrived with the stream restart,
   * such as the directory's welcome); call once the listeners are attached. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const item of this.queue.splice(0)) this.incoming(item);
  }

  /** RFC 6120 §5: <starttls/>, <proceed/>, then the TLS handshake on the same socket. */
  private async startTls(options: ConnectOptions, timeoutMs: number): Promise<void> {
    this.socket.write(serialize(new Element('starttls', { xmlns: NS_TLS })));
    const reply = await this.nextStanza(timeoutMs, 'the STARTTLS reply');
    if (reply.name !== 'proceed') throw new ClientError('PROTOCOL', `the server refused STARTTLS (<${reply.name}>)`);
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    // Servers run self-signed certificates: pinning (below) replaces CA verification.
    const secure = tls.connect({
      socket: plain,
      rejectUnauthorized: false,
      servername: net.isIP(this.host) ? undefined : this.host,
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', (err) => reject(new ClientError('CONNECT_FAILED', `TLS handshake with ${this.host}:${this.port} failed: ${err.message}`)));
      }),
      timeoutMs,
      'the TLS handshake',
    );
    this.socket = secure;
    this.reader.reset();
    this.listen(secure);
    const cert = secure.getPeerCertificate();
    if (!cert || !cert.fingerprint256) throw new ClientError('PROTOCOL', 'the server presented no certificate');
    this.fingerprint = 'SHA256:' + cert.fingerprint256;
    if (!options.insecure) {
      const store = options.knownServers ?? (await KnownServers.open());
      try {
        await store.verify(this.host, this.port, this.fingerprint);
      } catch (err) {
        if ((err as { code?: string }).code === 'CERTIFICATE_CHANGED') {
          throw new ClientError('CERTIFICATE_CHANGED', (err as Error).message);
        }
        throw err;
      }
    }
  }

  /** SASL (protocol.md §1.5): libinfinity never sends an initial response; the server challenges first. */
  private async authenticate(features: Element, options: ConnectOptions, timeoutMs: number): Promise<void> {
    const offered = (features.getChild('mechanisms')?.getChildren('mechanism') ?? []).map((m) => m.getText().trim());
    const user = options.user ?? 'tandem';
    let mechanism: string;
    let payload: Buffer;
    if (options.password !== undefined && offered.includes('PLAIN')) {
      mechanism = 'PLAIN';
      payload = Buffer.from(`\0${user}\0${options.password}`, 'utf8');
    } else if (offered.includes('ANONYMOUS')) {
      mechanism = 'ANONYMOUS';
      payload = Buffer.from(user, 'utf8');
    } else if (offered.includes('PLAIN')) {
      throw new ClientError('AUTH_FAILED', `${this.host}:${this.port} requires a password (--password, --password-file or TANDEM_PASSWORD)`);
    } else {
      throw new ClientError('AUTH_FAILED', `${this.host}:${this.port} offers no SASL mechanism tandem supports (offered: ${offered.join(', ') || 'none'})`);
    }
    this.socket.write(serialize(new Element('auth', { xmlns: NS_SASL, mechanism })));
    for (;;) {
      const el = await this.nextStanza(timeoutMs, 'the authentication reply');
      if (el.name === 'challenge') {
        const response = new Element('response', { xmlns: NS_SASL });
        if (payload.length > 0) response.t(payload.toString('base64'));
        this.socket.write(serialize(response));
        payload = Buffer.alloc(0);
      } else if (el.name === 'success') {
        return;
      } else if (el.name === 'failure') {
        const condition = el.children.find((c): c is Element => typeof c !== 'string');
        const detail = condition?.getChild('error')?.getText();
        const why = detail ? detail : condition?.name ?? 'unknown reason';
        throw new ClientError('AUTH_FAILED', `authentication as "${user}" (${mechanism}) failed: ${why}`);
      } else {
        throw new ClientError('PROTOCOL', `unexpected <${el.name}> during authentication`);
      }
    }
  }
}

export { formatFingerprint };
