/**
 * One client connection: bytes in, XMPP negotiation by @tandem/protocol's ServerStream, then the
 * messages of each `<group>` container to the server's dispatcher; elements out, serialised
 * libxml2-exactly. This module does only the I/O the state machine asks for (writes, the TLS
 * upgrade, the credential check, closing the transport), plus a cap on unsent output, so a peer
 * that stops reading cannot make the server buffer without bound, a deadline for logging in, and
 * a limit on failed password attempts.
 */
import type { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  Element, InfError, ServerStream, decodeGroup, defaultStreamLimits, encodeGroup, serialize,
  type SecurityPolicy, type ServerAction, type StreamErrorCondition, type XmlLimits,
} from '@tandem/protocol';
import type { AuthPolicy } from '../auth.js';
import type { PreparedGroupRun } from '../session/members.js';

export interface ConnectionLimits extends XmlLimits {
  /** Unsent output above which the connection is closed (resource-constraint). */
  maxPendingOutputBytes: number;
  /**
   * Time from accept to the open stream (header, STARTTLS, SASL) before the connection is closed
   * with connection-timeout; Infinity: no deadline. A logged-in connection has none, however idle.
   */
  handshakeTimeoutMs: number;
  /** Failed credential checks on one connection before it is closed with policy-violation. */
  maxAuthFailures: number;
  /** Wait before answering a failed credential check (slows down guessing). */
  authFailureDelayMs: number;
  /**
   * Relayed messages (other members' requests) written to a peer within this many ms of its
   * previous write wait until then, to go out together; 0: each turn's output at once.
   */
  relayBatchMs: number;
}

export const defaultConnectionLimits: Readonly<ConnectionLimits> = Object.freeze({
  ...defaultStreamLimits,
  maxPendingOutputBytes: 64 * 1024 * 1024,
  handshakeTimeoutMs: 30_000,
  // RFC 6120 6.4.5: allow "at least 2 and no more than 5" retries, then policy-violation.
  maxAuthFailures: 5,
  authFailureDelayMs: 500,
  relayBatchMs: 10,
});

export interface TransportInfo {
  /** "[::ffff:127.0.0.1]:40000"-style peer id for logs. */
  remote?: string;
  /** The peer's IP address, for the per-address connection limit; absent: not counted per address. */
  address?: string;
  /** Upgrades the socket to TLS (server side); absent for transports that cannot. */
  startTls?: () => Promise<Duplex>;
}

export interface ConnectionOptions {
  hostName: string;
  policy: SecurityPolicy;
  auth: AuthPolicy;
  limits: ConnectionLimits;
  log: (line: string) => void;
}

export interface ConnectionEvents {
  /** The stream is open (authenticated); the directory sends its welcome. */
  open: [];
  /** The messages of one `<group>` container, in order, once open. */
  group: [name: string, messages: Element[]];
  closed: [];
  /** Group containers as read and written once open (the traffic-logging plugin). */
  traffic: [direction: 'received' | 'sent', xml: string];
  /** A transport, stream or TLS error; the connection is closing (InfXmlConnection::error). */
  failure: [message: string];
}

/** A peer that never closes its side must not keep the socket around forever. */
const LINGER_MS = 5000;

export class Connection extends EventEmitter<ConnectionEvents> {
  private readonly xmpp: ServerStream;
  private closing = false;
  /** The stream has ended; what remains waits for the messages read before the end (answerBeforeEnd). */
  private ending = false;
  /** Output produced in the current event-loop turn, written in one go (see write()). */
  private outbox: (string | Buffer)[] = [];
  /** How the outbox will be written: at the end of this turn, by a relay batch's timer, or not yet. */
  private flush: 'none' | 'turn' | 'timer' = 'none';
  private flushTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last write to the transport. */
  private lastFlush = -Infinity;
  /** When the last relay was queued, and the moving average of the gaps between relays (ms). */
  private lastRelay = -Infinity;
  private relayGap = Infinity;
  private closedEmitted = false;
  /** Until the stream is open: closes a connection that does not log in in time. */
  private handshakeTimer: NodeJS.Timeout | undefined;
  private authFailures = 0;
  /** Why we are closing, for the log line of the close (a limit was hit). */
  private closeReason: string | undefined;
  user: string | undefined;
  /** Whether anyone listens to 'traffic' (asked for every message written, so kept up to date). */
  private traced = false;

  constructor(
    private stream: Duplex,
    private readonly transport: TransportInfo,
    private readonly options: ConnectionOptions,
  ) {
    super();
    // 'newListener' comes before a listener is added, 'removeListener' after one is removed.
    const untyped = this as EventEmitter;
    untyped.on('newListener', (event: string) => { if (event === 'traffic') this.traced = true; });
    untyped.on('removeListener', (event: string) => { if (event === 'traffic') this.traced = this.listenerCount('traffic') > 0; });
    const { maxElementBytes, maxDepth } = options.limits;
    this.xmpp = new ServerStream({
      host: options.hostName,
      // A transport that cannot do TLS (an in-memory pair) never offers STARTTLS.
      policy: transport.startTls ? options.policy : 'no-tls',
      mechanisms: options.auth.mechanisms,
      limits: { maxElementBytes, maxDepth },
    });
    this.attach(stream);
    const deadline = options.limits.handshakeTimeoutMs;
    if (Number.isFinite(deadline) && deadline > 0) {
      this.handshakeTimer = setTimeout(this.onHandshakeTimeout, deadline);
      this.handshakeTimer.unref();
    }
  }

  /** Nothing from the client's header to the open stream may take longer than the deadline. */
  private readonly onHandshakeTimeout = (): void => {
    this.handshakeTimer = undefined;
    if (this.closing || this.xmpp.isOpen) return;
    // Before a stream header (or during the TLS handshake) there is no stream to put the error
    // in: the connection is just closed, as for any error there (protocol.md 1.3).
    this.closeReason = `it did not log in within ${this.options.limits.handshakeTimeoutMs / 1000} s`;
    this.fail('connection-timeout');
  };

  get remote(): string {
    return this.transport.remote ?? 'local';
  }

  /** The TLS client certificate, only once verified against the configured CAs (certificate-auth). */
  get peerCertificate(): X509Certificate | undefined {
    const s = this.stream as Partial<TLSSocket>;
    return typeof s.getPeerX509Certificate === 'function' && s.authorized === true ? s.getPeerX509Certificate() : undefined;
  }

  get isOpen(): boolean {
    // While the messages read before the stream's end are handled, their answers still go out.
    return (this.xmpp.isOpen || this.ending) && !this.closing;
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (!this.closing && !this.ending) this.run(this.xmpp.receive(chunk));
  };
  private readonly onEnd = (): void => {
    if (!this.closing && !this.ending) this.run(this.xmpp.transportClosed());
    // The messages read before the end are handled first (answerBeforeEnd), then the peer goes.
    this.afterWork(() => this.finish());
  };
  private readonly onError = (err: Error): void => {
    this.options.log(`Connection error from ${this.remote}: ${err.message}`);
    this.emit('failure', err.message);
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

  /**
   * Work started by a dispatched message (the directory handles a connection's messages in
   * order, asynchronously). A stream that ends, by the client's end tag, a stream error or the
   * transport closing, ends only once this is done: infinoted handles every message it has read
   * before the end (a node added just before `</stream:stream>` exists, and a request before a
   * message that is not well-formed is answered before the stream error).
   */
  answerBeforeEnd(work: Promise<void>): void {
    // The directory handles one connection's messages one after the other: the last one's promise
    // settles after all of them.
    this.lastWork = work;
  }

  private lastWork: Promise<void> | undefined;

  /** Runs `then` once the dispatched messages are handled, or after LINGER_MS at the latest. */
  private afterWork(then: () => void): void {
    const work = this.lastWork;
    if (!work) {
      then();
      return;
    }
    let done = false;
    const go = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      then();
    };
    const timer = setTimeout(go, LINGER_MS);
    timer.unref();
    void work.then(go);
  }

  private run(actions: ServerAction[]): void {
    // A stream's end is always its last action (the stream reads nothing after it).
    const ends = actions.length > 0 && actions[actions.length - 1]!.type === 'close';
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      if (ends && !this.ending && this.lastWork && a.type !== 'stanza') {
        const rest = actions.slice(i);
        this.ending = true;
        this.afterWork(() => this.run(rest));
        return;
      }
      switch (a.type) {
        case 'send':
          this.write(a.data);
          break;
        case 'starttls':
          this.startTls();
          break;
        case 'authenticate':
          this.authenticate(a.credentials);
          break;
        case 'ready':
          clearTimeout(this.handshakeTimer);
          this.handshakeTimer = undefined;
          this.emit('open');
          break;
        case 'stanza':
          this.dispatch(a.element);
          break;
        case 'peer-error':
          this.options.log(`Stream error from ${this.remote}: ${a.condition}`);
          break;
        case 'close':
          if (a.reason === 'error' || a.reason === 'not-a-stream') {
            const why = this.closeReason ? `${this.closeReason} (${a.condition})` : a.condition ?? 'stream error';
            this.options.log(`Closing ${this.remote}: ${why}`);
            this.emit('failure', why);
          }
          this.shutdown();
          return;
      }
    }
  }

  private authenticate(credentials: Parameters<AuthPolicy['authenticate']>[0]): void {
    const result = this.options.auth.authenticate(credentials);
    if (!result.ok) {
      const detail = result.detail === undefined ? undefined : new InfError('INF_AUTHENTICATION_DETAIL_ERROR', result.detail);
      const failures = ++this.authFailures;
      const answer = (): void => {
        if (this.closing) return;
        // The failure is answered as always (the client may retry, capture 04a); past the limit
        // the stream ends with policy-violation (RFC 6120 6.4.5).
        this.run(this.xmpp.authResult({ ok: false, condition: result.condition, ...(detail ? { detail } : {}) }));
        if (failures >= this.options.limits.maxAuthFailures) {
          this.closeReason = `${failures} failed login attempts`;
          this.fail('policy-violation');
        }
      };
      // Nothing is read while the answer waits (the stream is in its checking state).
      const delay = this.options.limits.authFailureDelayMs;
      if (delay > 0) setTimeout(answer, delay).unref();
      else answer();
      return;
    }
    this.user = result.user;
    this.options.log(`User ${result.user} logged in from ${this.remote} via ${credentials.mechanism === 'PLAIN' ? 'password' : 'anonymous'}`);
    this.run(this.xmpp.authResult({ ok: true }));
  }

  private dispatch(el: Element): void {
    let name: string;
    let messages: Element[];
    let publisher: string | undefined;
    try {
      // Any top-level element with a name attribute is a group container; others are dropped
      // (inf-communication-registry.c).
      ({ name, messages, publisher } = decodeGroup(el));
    } catch {
      return;
    }
    // Every group lives on the server, which a client calls "you"; without a publisher, or with
    // "me", a group of the client's own is meant, which the server does not have: dropped, as
    // infinoted's registry finds no such group.
    if (publisher !== 'you') return;
    if (this.traced) this.emit('traffic', 'received', serialize(el));
    try {
      this.emit('group', name, messages);
    } catch (err) {
      this.options.log(`Internal error handling a message from ${this.remote}: ${(err as Error).stack ?? err}`);
    }
  }

  private startTls(): void {
    const upgrade = this.transport.startTls!;
    const old = this.stream;
    // <proceed/> must reach the old stream before the TLS handshake takes the socket over.
    this.flushOutbox();
    this.detach(old);
    upgrade().then((secure) => {
      if (this.closing) {
        secure.destroy();
        return;
      }
      this.stream = secure;
      this.attach(secure);
      this.run(this.xmpp.tlsEstablished());
    }, (err: Error) => {
      // A failed handshake just ends the connection; no <failure/> (protocol.md §1.4).
      this.options.log(`TLS handshake with ${this.remote} failed: ${err.message}`);
      this.emit('failure', err.message);
      this.closing = true;
      old.destroy();
      this.finish();
    });
  }

  private write(data: string | Buffer, relay = false): void {
    if (this.closing || this.stream.destroyed) return;
    // Everything for this peer produced in one event-loop turn (a broadcast per request of each
    // of many clients, a synchronisation) goes out in a single socket write at the end of the
    // turn: one system call instead of one per message. Relays of other members' messages may
    // wait a little longer (relayBatchMs after the previous write) so that a peer of a busy
    // session gets them a few at a time; anything else written meanwhile takes them along.
    this.outbox.push(data);
    const batch = this.options.limits.relayBatchMs;
    const batching = relay && batch > 0;
    const now = batching ? performance.now() : 0;
    if (batching) {
      // Only relays to a peer that gets them more often than once per batch period (on average)
      // wait: in a quiet session every relay goes out at once.
      const gap = now - this.lastRelay;
      this.lastRelay = now;
      this.relayGap = this.relayGap === Infinity ? gap : 0.75 * this.relayGap + 0.25 * gap;
    }
    if (this.flush === 'turn') return;
    if (batching) {
      if (this.flush === 'timer') return;
      const wait = this.lastFlush + batch - now;
      if (wait >= 1 && this.relayGap < batch) {
        this.flush = 'timer';
        this.flushTimer = setTimeout(this.flushOutbox, wait);
        return;
      }
    } else if (this.flush === 'timer') {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.flush = 'turn';
    setImmediate(this.flushOutbox);
  }

  private readonly flushOutbox = (): void => {
    if (this.flush === 'timer') clearTimeout(this.flushTimer);
    this.flush = 'none';
    this.flushTimer = undefined;
    if (this.outbox.length === 0) return;
    const parts = this.outbox;
    this.outbox = [];
    if (this.stream.destroyed) return;
    this.lastFlush = performance.now();
    if (parts.every((p) => typeof p === 'string')) {
      this.stream.write(parts.length === 1 ? parts[0]! : parts.join(''));
    } else {
      // Prepared bytes (a big document's text) go out as they are, in one vectored write.
      this.stream.cork();
      for (const p of parts) this.stream.write(p);
      this.stream.uncork();
    }
    if (this.stream.writableLength > this.options.limits.maxPendingOutputBytes) {
      this.options.log(`Closing ${this.remote}: it does not read what it is sent`);
      this.closing = true;
      this.stream.destroy();
      this.finish();
    }
  };

  /** Sends a prepared run of group messages as its bytes (message by message while traced). */
  sendPrepared(run: PreparedGroupRun): void {
    if (!this.isOpen) return;
    if (this.traced) {
      this.sendGroup(run.group, ...run.messages);
      return;
    }
    this.write(run.encoded());
  }

  /** Sends elements in one `<group name=...>` container each (the server never writes publisher). */
  sendGroup(group: string, ...messages: Element[]): void {
    if (!this.isOpen) return;
    let out = '';
    const traced = this.traced;
    for (const m of messages) {
      const xml = groupXml(group, m);
      out += xml;
      if (traced) this.emit('traffic', 'sent', xml);
    }
    this.write(out);
  }

  /**
   * Sends a message of another member that the session relays (a request, a join, a caret move):
   * it may wait up to relayBatchMs to go out with the next ones.
   */
  sendRelay(group: string, message: Element): void {
    if (!this.isOpen) return;
    const xml = groupXml(group, message);
    if (this.traced) this.emit('traffic', 'sent', xml);
    this.write(xml, true);
  }

  /** Stream error (if any), footer, close. */
  fail(condition?: StreamErrorCondition): void {
    if (this.closing) return;
    if (condition === undefined) this.end();
    else this.run(this.xmpp.fail(condition));
  }

  /** Orderly close: footer, then end of the transport without waiting for the peer's footer. */
  end(): void {
    if (this.closing) return;
    this.run(this.xmpp.close());
    this.shutdown();
  }

  /** Immediate teardown, used on server shutdown after sending the footer. */
  destroy(): void {
    this.closing = true;
    this.flushOutbox();
    this.stream.destroy();
    this.finish();
  }

  private shutdown(): void {
    if (this.closing) return;
    this.closing = true;
    this.flushOutbox();
    this.stream.end();
    setTimeout(() => this.stream.destroy(), LINGER_MS).unref();
    this.finish();
  }

  private finish(): void {
    this.closing = true;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.emit('closed');
  }
}

// A broadcast hands the same element to every member in one synchronous loop: serialise it once,
// not once per member. The cache holds one entry and is dropped after the current task, so a later
// change to the element is never masked.
let cachedMessage: Element | undefined;
let cachedGroup = '';
let cachedXml = '';

function groupXml(group: string, message: Element): string {
  if (message === cachedMessage && group === cachedGroup) return cachedXml;
  if (cachedMessage === undefined) queueMicrotask(() => { cachedMessage = undefined; });
  cachedXml = serialize(encodeGroup(group, message));
  cachedMessage = message;
  cachedGroup = group;
  return cachedXml;
}
