// One connection to an infinoted-compatible server: a transport (TCP, or a WebSocket carrying the
// same stream), then @tandem/protocol's ClientStream for what a libinfinity client sends
// (inf-xmpp-connection.c, client half: STARTTLS, SASL ANONYMOUS/PLAIN, stream restarts), then
// <group> containers (protocol.md §1, §2). This module only moves bytes and maps outcomes to errors.
import { Emitter } from '../emitter.js';
import {
  ClientStream, decodeGroup, encodeGroup, serialize,
  type ClientAction, type ClientRefusal, type ClientSasl, type Element, type SecurityPolicy,
} from '@tandem/protocol';
import { ClientError, deferred, withTimeout } from '../errors.js';
import type { KnownServers } from './known-servers.js';
import { connectWebSocket, type Transport } from './transport.js';

/** libinfinity's default port (inf_protocol_get_default_port). */
export const DEFAULT_PORT = 6523;

export interface ConnectOptions {
  host?: string;
  port?: number;
  /** ws://host:port or wss://host:port: connect over a WebSocket instead of TCP (host/port are then ignored). */
  url?: string;
  /** true: TLS is required; false: never STARTTLS; undefined (default): STARTTLS when offered. */
  tls?: boolean;
  /** Skip the certificate pin check (and, for wss://, the CA check). */
  insecure?: boolean;
  /** Where certificate pins are kept; default $XDG_CONFIG_HOME/tandem (see KnownServers). */
  knownServers?: KnownServers;
  /** SASL identity: the ANONYMOUS trace token (Gobby sends the user name) or PLAIN's authcid. */
  user?: string;
  /** Use SASL PLAIN with this password. */
  password?: string;
  /** Milliseconds to wait for the connection and for the negotiation (default 30000). */
  timeoutMs?: number;
}

export interface ConnectionEvents {
  /** A message of group `group` (each child of a <group> container, in order). */
  message: [group: string, message: Element];
  /** The connection is gone; `error` says why if it was not an orderly close. */
  close: [error?: Error];
}

/** Where to connect, from the options: a WebSocket URL or host and port. */
function target(options: ConnectOptions): { url?: string; host: string; port: number } {
  if (options.url === undefined) return { host: options.host ?? 'localhost', port: options.port ?? DEFAULT_PORT };
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new ClientError('CONNECT_FAILED', `"${options.url}" is not a URL (expected ws://host:port)`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ClientError('CONNECT_FAILED', `"${options.url}" is not a ws:// or wss:// URL`);
  }
  if (options.tls === true && parsed.protocol === 'ws:') {
    throw new ClientError('TLS_UNAVAILABLE', `${options.url} is not encrypted; use wss:// for TLS`);
  }
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'wss:' ? 443 : 80;
  return { url: options.url, host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}

export class Connection extends Emitter<ConnectionEvents> {
  private readonly stream: ClientStream;
  private readonly negotiated = deferred<void>();
  private isReady = false;
  private paused = true;
  private queue: Element[] = [];
  private closed = false;
  private failure: Error | undefined;
  private transportGone = deferred<void>();
  /** What the negotiation waits for next, for a timeout message that names the step. */
  private phase = 'the server stream features';
  /** SHA-256 fingerprint of the server certificate when STARTTLS is in use. */
  fingerprint: string | undefined;

  private constructor(
    private readonly transport: Transport,
    readonly host: string,
    readonly port: number,
    private readonly options: ConnectOptions,
  ) {
    super();
    const sasl: ClientSasl = { anonymous: { trace: options.user ?? 'tandem' } };
    if (options.password !== undefined) sasl.plain = { authcid: options.user ?? 'tandem', password: options.password };
    // A wss:// transport is already encrypted: the stream inside must not ask for STARTTLS.
    const policy: SecurityPolicy = !transport.canStartTls ? 'no-tls' : options.tls === true ? 'require-tls' : options.tls === false ? 'no-tls' : 'allow-tls';
    this.stream = new ClientStream({ host, policy, sasl });
    transport.listen({
      data: (chunk) => this.run(this.stream.receive(chunk)),
      close: (error) => this.transportClosed(error),
    });
  }

  /** Connects, negotiates TLS and SASL and resolves once the stream is ready for groups. */
  static async open(options: ConnectOptions = {}): Promise<Connection> {
    const timeoutMs = options.timeoutMs ?? 30000;
    const { url, host, port } = target(options);
    const where = url ?? `${host}:${port}`;
    const transport = await withTimeout(
      url === undefined ? connectTcpLazily(host, port) : connectWebSocket(url, { insecure: options.insecure }),
      timeoutMs,
      `a connection to ${where}`,
    );
    const conn = new Connection(transport, host, port, options);
    conn.run(conn.stream.start());
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => conn.fail(new ClientError('TIMEOUT', `timed out after ${timeoutMs / 1000} s waiting for ${conn.phase}`)), timeoutMs)
      : undefined;
    try {
      await conn.negotiated.promise;
    } catch (err) {
      conn.closed = true;
      conn.transport.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  get secure(): boolean {
    return this.transport.secure;
  }

  /** Sends messages in one <group publisher="you" name=...> container per message, as libinfinity does. */
  send(group: string, ...messages: Element[]): void {
    if (this.closed) throw new ClientError('CLOSED', 'the connection is closed');
    let out = '';
    for (const m of messages) out += serialize(encodeGroup(group, m, 'you'));
    this.transport.write(out);
  }

  /** Starts delivering 'message' events (including those that arrived with the stream restart,
   * such as the directory's welcome); call once the listeners are attached. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const el of this.queue.splice(0)) this.dispatch(el);
  }

  /** Orderly close: `</stream:stream>`, end the transport, and wait briefly for it to go. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.run(this.stream.close());
    this.transport.end();
    const timer = setTimeout(() => this.transport.destroy(), 2000);
    await this.transportGone.promise.catch(() => undefined);
    clearTimeout(timer);
  }

  private run(actions: ClientAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          if (!this.isReady) this.phase = awaiting(a.data);
          this.transport.write(a.data);
          break;
        case 'starttls':
          this.phase = 'the TLS handshake';
          void this.startTls();
          break;
        case 'auth-failed': {
          const why = a.detail?.message || a.condition;
          this.fail(new ClientError('AUTH_FAILED', `authentication as "${this.options.user ?? 'tandem'}" (${this.mechanism()}) failed: ${why}`));
          break;
        }
        case 'ready':
          this.isReady = true;
          this.negotiated.resolve();
          break;
        case 'stanza':
          if (this.paused) this.queue.push(a.element);
          else this.dispatch(a.element);
          break;
        case 'peer-error':
          this.fail(new ClientError('PROTOCOL', this.isReady
            ? `the server ended the stream: ${a.condition}`
            : `the server refused the stream (${a.condition}) during the negotiation`));
          break;
        case 'close':
          this.streamClosed(a);
          break;
      }
    }
  }

  /** The mechanism ClientStream picks (PLAIN when offered and configured, else ANONYMOUS). */
  private mechanism(): string {
    return this.options.password !== undefined && this.stream.offeredMechanisms.includes('PLAIN') ? 'PLAIN' : 'ANONYMOUS';
  }

  private streamClosed(a: Extract<ClientAction, { type: 'close' }>): void {
    if (a.reason === 'error') {
      this.fail(a.refusal ? this.refusal(a.refusal, a.message) : new ClientError('PROTOCOL', `the server sent malformed XML: ${a.message ?? a.condition}`));
      return;
    }
    if (a.reason === 'peer-closed') {
      // The server ended the stream (e.g. shutdown); ClientStream answered, now let the transport go.
      this.transport.end();
      if (!this.closed) this.fail(new ClientError('CLOSED', this.isReady ? 'the server closed the stream' : 'the server ended the stream during the negotiation'));
    }
  }

  private refusal(refusal: ClientRefusal, message: string | undefined): ClientError {
    const where = this.transport.description;
    switch (refusal) {
      case 'tls-required':
        return new ClientError('TLS_REQUIRED', `${where} requires TLS; drop --no-tls`);
      case 'tls-unavailable':
        return new ClientError('TLS_UNAVAILABLE', `${where} does not offer TLS (try --no-tls)`);
      case 'starttls-refused':
        return new ClientError('PROTOCOL', `${where} refused STARTTLS`);
      case 'no-mechanism': {
        const offered = this.stream.offeredMechanisms;
        if (offered.includes('PLAIN') && this.options.password === undefined) {
          return new ClientError('AUTH_FAILED', `${where} requires a password (--password, --password-file or TANDEM_PASSWORD)`);
        }
        return new ClientError('AUTH_FAILED', `${where} offers no SASL mechanism tandem supports: ${message ?? ''}`);
      }
    }
  }

  /** <proceed/> arrived: TLS on the same connection, the pin check, then a fresh stream. */
  private async startTls(): Promise<void> {
    try {
      this.fingerprint = await this.transport.startTls();
      if (!this.options.insecure) {
        // Loaded here, not at the top: the pin store is files (lowdb), which a browser has not.
        const store = this.options.knownServers ?? (await (await import('./known-servers.js')).KnownServers.open());
        try {
          await store.verify(this.host, this.port, this.fingerprint);
        } catch (err) {
          if ((err as { code?: string }).code === 'CERTIFICATE_CHANGED') throw new ClientError('CERTIFICATE_CHANGED', (err as Error).message);
          throw err;
        }
      }
      if (this.failure) return;
      this.run(this.stream.tlsEstablished());
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private dispatch(el: Element): void {
    let group: ReturnType<typeof decodeGroup>;
    try {
      group = decodeGroup(el);
    } catch {
      // A top-level element without a name is no group container (protocol.md §2.1): ignore it.
      return;
    }
    for (const m of group.messages) this.emit('message', group.name, m);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const wasClosed = this.closed;
    this.closed = true;
    this.negotiated.reject(err);
    this.transport.destroy();
    if (this.isReady && !wasClosed) this.emit('close', err);
  }

  private transportClosed(error: Error | undefined): void {
    this.run(this.stream.transportClosed().filter((a) => a.type !== 'close'));
    this.transportGone.resolve();
    if (this.closed) {
      if (!this.failure) this.emit('close');
      return;
    }
    this.fail(error ?? new ClientError('CLOSED', this.isReady ? 'the server closed the connection' : `${this.transport.description} closed the connection during the negotiation`));
  }
}

/** What the server owes us after the client sent `data` during the negotiation (protocol.md §1.3-1.6). */
function awaiting(data: string): string {
  if (data.startsWith('<stream:stream')) return 'the server stream features';
  if (data.startsWith('<starttls')) return 'the STARTTLS reply';
  return 'the authentication reply';
}

/** TCP (node:net, node:tls) is loaded only when used, so that this module also loads in a browser. */
async function connectTcpLazily(host: string, port: number): Promise<Transport> {
  const { connectTcp } = await import('./tcp.js');
  return connectTcp(host, port);
}
