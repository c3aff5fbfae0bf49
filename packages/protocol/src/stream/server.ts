/**
 * The server side of the infinoted stream layer as a state machine: feed it the bytes a client
 * sends, get back what to send and what happened. Behaviour follows the server half of
 * libinfinity's inf-xmpp-connection.c as observed in the captures (protocol.md 1.3-1.7).
 */
import type { Element } from '@xmpp/xml';
import type { InfError } from '../errors.js';
import { XmlParser, type XmlLimits } from '../xml/parser.js';
import { serialize } from '../xml/serialize.js';
import {
  base64Decode, features, sasl, saslFailure, serverHeader, STREAM_CLOSE, streamError, tls,
  type SaslFailureCondition, type SaslMechanism, type SecurityPolicy, type StreamErrorCondition,
} from './elements.js';

/** What a client offered to authenticate with, decoded from its SASL <response>. */
export type SaslCredentials =
  | { mechanism: 'ANONYMOUS'; trace: string }
  | { mechanism: 'PLAIN'; authzid: string; authcid: string; password: string };

export type AuthResult = { ok: true } | { ok: false; condition?: SaslFailureCondition; detail?: InfError };

export type ServerAction =
  /** Write these bytes to the peer, in order with the other sends. */
  | { type: 'send'; data: string }
  /** <proceed/> has been queued: after it is written, run the TLS server handshake, then call tlsEstablished(). */
  | { type: 'starttls' }
  /** Decide on these credentials and answer with authResult(). Nothing is read meanwhile. */
  | { type: 'authenticate'; credentials: SaslCredentials }
  /** The authenticated stream is open (header and empty features queued): send the welcome now. */
  | { type: 'ready' }
  /** A stanza of the authenticated stream. */
  | { type: 'stanza'; element: Element }
  /** The peer reported a stream error; its </stream:stream> follows. */
  | { type: 'peer-error'; condition: string }
  /** The stream is over: flush the sends, then close the transport. */
  | { type: 'close'; reason: 'peer-closed' | 'error' | 'not-a-stream' | 'closed'; condition?: StreamErrorCondition };

export interface ServerStreamOptions {
  /** Sent as `from` (infinoted: g_get_host_name()). */
  host: string;
  policy: SecurityPolicy;
  /** ['ANONYMOUS'] normally; ['PLAIN'] when a password (or PAM) is configured (protocol.md 1.3). */
  mechanisms: readonly SaslMechanism[];
  /** Whether the transport is already TLS (e.g. a TLS-only listener); default false. */
  secure?: boolean;
  limits?: Partial<XmlLimits>;
}

type State =
  | 'header' // waiting for the client's first header
  | 'negotiating' // features sent; expecting <starttls/> or <auth>
  | 'tls' // <proceed/> sent; waiting for the caller's handshake
  | 'sasl' // challenge sent; expecting <response> or <abort>
  | 'checking' // waiting for authResult()
  | 'restart' // <success/> sent; expecting the new header
  | 'open'
  | 'closing' // our </stream:stream> sent; waiting for the peer's
  | 'closed';

export class ServerStream {
  private state: State = 'header';
  private parser: XmlParser;
  private secure: boolean;
  private mechanism: SaslMechanism | undefined;

  constructor(private readonly options: ServerStreamOptions) {
    this.secure = options.secure ?? false;
    this.parser = new XmlParser({ limits: options.limits });
  }

  /** True once the peer is authenticated and the stream reopened. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Feed bytes received from the client. */
  receive(chunk: Uint8Array | string): ServerAction[] {
    if (this.state === 'closed') return [];
    this.parser.push(chunk);
    return this.drain([]);
  }

  /** The peer closed the transport without a </stream:stream>. */
  transportClosed(): ServerAction[] {
    if (this.state === 'closed') return [];
    this.state = 'closed';
    return [{ type: 'close', reason: 'closed' }];
  }

  /** TLS is up on the transport: the client starts a fresh stream inside it (RFC 3920 5.1). */
  tlsEstablished(): ServerAction[] {
    if (this.state !== 'tls') return [];
    this.secure = true;
    this.parser = new XmlParser({ limits: this.options.limits });
    this.state = 'header';
    return [];
  }

  /** The verdict on credentials from an 'authenticate' action. */
  authResult(result: AuthResult): ServerAction[] {
    if (this.state !== 'checking') return [];
    const out: ServerAction[] = [];
    if (result.ok) {
      this.send(out, serialize(sasl('success')));
      // The client restarts the stream; its new header may already be buffered (same byte stream).
      this.parser.restart();
      this.state = 'restart';
    } else {
      this.send(out, serialize(saslFailure(result.condition ?? 'not-authorized', result.detail)));
      this.state = 'negotiating'; // the stream stays open for a retry (capture 04a)
    }
    return this.drain(out);
  }

  /** Orderly close from our side; the 'close' action follows when the peer answers. */
  close(): ServerAction[] {
    if (this.state === 'closed' || this.state === 'closing') return [];
    const out: ServerAction[] = [];
    if (this.state === 'header' || this.state === 'tls') {
      this.state = 'closed';
      out.push({ type: 'close', reason: 'closed' });
      return out;
    }
    this.sendClose(out);
    this.state = 'closing';
    return out;
  }

  /** Terminates with a stream error (e.g. system-shutdown). */
  fail(condition: StreamErrorCondition): ServerAction[] {
    if (this.state === 'closed') return [];
    const out: ServerAction[] = [];
    this.error(out, condition);
    return out;
  }

  private send(out: ServerAction[], data: string): void {
    out.push({ type: 'send', data });
  }

  /** `</stream:stream>`, preceded by <abort/> while a SASL exchange runs (inf_xmpp_connection_terminate). */
  private sendClose(out: ServerAction[]): void {
    if (this.state === 'sasl' || this.state === 'checking') this.send(out, serialize(sasl('abort')));
    this.send(out, STREAM_CLOSE);
  }

  private error(out: ServerAction[], condition: StreamErrorCondition): void {
    if (this.state === 'header' || this.state === 'tls' || this.state === 'restart') {
      // No stream to report into yet (or, after SASL success, not yet again): infinoted just
      // drops the connection.
      this.state = 'closed';
      out.push({ type: 'close', reason: 'not-a-stream', condition });
      return;
    }
    if (this.state !== 'closing') {
      this.send(out, streamError(condition));
      this.sendClose(out);
    }
    this.state = 'closed';
    out.push({ type: 'close', reason: 'error', condition });
  }

  private drain(out: ServerAction[]): ServerAction[] {
    // While TLS is being set up or credentials are checked, unread input stays in the parser.
    while (this.state !== 'closed' && this.state !== 'tls' && this.state !== 'checking') {
      const ev = this.parser.next();
      if (!ev) break;
      switch (ev.type) {
        case 'error':
          this.error(out, ev.error.condition);
          break;
        case 'open':
          this.onHeader(out, ev.element);
          break;
        case 'close':
          if (this.state !== 'closing') this.sendClose(out);
          this.state = 'closed';
          out.push({ type: 'close', reason: 'peer-closed' });
          break;
        case 'element':
          this.onElement(out, ev.element);
          break;
      }
    }
    return out;
  }

  private onHeader(out: ServerAction[], el: Element): void {
    if (el.name !== 'stream:stream' || (this.state !== 'header' && this.state !== 'restart')) {
      this.error(out, 'bad-format');
      return;
    }
    // Attributes of the client's header are not checked, as in infinoted.
    this.send(out, serverHeader(this.options.host));
    if (this.state === 'restart') {
      this.send(out, serialize(features({ starttls: 'none', mechanisms: [] })));
      this.state = 'open';
      out.push({ type: 'ready' });
      return;
    }
    const { policy } = this.options;
    const starttls = this.secure || policy === 'no-tls' ? 'none' : policy === 'require-tls' ? 'required' : 'offered';
    this.send(out, serialize(features({ starttls, mechanisms: this.options.mechanisms })));
    this.state = 'negotiating';
  }

  private onElement(out: ServerAction[], el: Element): void {
    // A client's stream error before the stream is open changes nothing (infinoted only reports
    // it to itself, whatever state the stream is in).
    if (el.name === 'stream:error' && (this.state === 'negotiating' || this.state === 'sasl')) return;
    switch (this.state) {
      case 'open':
        if (el.name === 'stream:error') {
          const cond = el.children.find((c): c is Element => typeof c !== 'string');
          out.push({ type: 'peer-error', condition: cond?.name ?? 'undefined-condition' });
        } else {
          out.push({ type: 'stanza', element: el });
        }
        return;
      case 'negotiating':
        return this.onNegotiating(out, el);
      case 'sasl':
        return this.onSasl(out, el);
      case 'closing':
        return; // whatever arrives after our </stream:stream> is dropped
      default:
        // 'restart': a stanza where the new header belongs.
        this.error(out, 'not-authorized');
    }
  }

  private onNegotiating(out: ServerAction[], el: Element): void {
    if (el.name === 'starttls' && !this.secure && this.options.policy !== 'no-tls') {
      this.send(out, serialize(tls('proceed')));
      this.state = 'tls';
      out.push({ type: 'starttls' });
      return;
    }
    if (el.name !== 'auth' || (this.options.policy === 'require-tls' && !this.secure)) {
      // Any other stanza before authentication, starttls under no-tls, auth before TLS under require-tls.
      this.error(out, 'not-authorized');
      return;
    }
    const mech = el.attrs.mechanism;
    if (typeof mech !== 'string' || !(this.options.mechanisms as readonly string[]).includes(mech)) {
      this.send(out, serialize(saslFailure('invalid-mechanism')));
      return;
    }
    // An initial response inside <auth> is ignored: infinoted always starts with an empty challenge.
    this.mechanism = mech as SaslMechanism;
    this.send(out, serialize(sasl('challenge')));
    this.state = 'sasl';
  }

  private onSasl(out: ServerAction[], el: Element): void {
    if (el.name === 'abort') {
      this.send(out, serialize(saslFailure('aborted')));
      this.state = 'negotiating';
      return;
    }
    // Anything else but a response is ignored while an exchange runs, another <auth> too
    // (capture 04a; inf_xmpp_connection_process_authentication, server side).
    if (el.name !== 'response') return;
    let text = '';
    for (const c of el.children) if (typeof c === 'string') text += c;
    const bytes = base64Decode(text.trim());
    if (!bytes) {
      this.send(out, serialize(saslFailure('incorrect-encoding')));
      this.state = 'negotiating';
      return;
    }
    // GSASL's PLAIN asks again for an empty token (infinoted: another empty challenge).
    if (bytes.length === 0 && this.mechanism === 'PLAIN') {
      this.send(out, serialize(sasl('challenge')));
      return;
    }
    const credentials = this.credentials(bytes);
    if (!credentials) {
      // GSASL reports a malformed or empty token as a mechanism error (protocol.md 1.5).
      this.send(out, serialize(saslFailure('invalid-mechanism')));
      this.state = 'negotiating';
      return;
    }
    this.state = 'checking';
    out.push({ type: 'authenticate', credentials });
  }

  private credentials(bytes: Uint8Array): SaslCredentials | undefined {
    const text = new TextDecoder().decode(bytes);
    if (this.mechanism === 'ANONYMOUS') {
      return text === '' ? undefined : { mechanism: 'ANONYMOUS', trace: text };
    }
    // RFC 4616: [authzid] NUL authcid NUL passwd. GSASL (infinoted) takes an empty authcid too:
    // with the right password such a login succeeds there.
    const parts = text.split('\0');
    if (parts.length !== 3) return undefined;
    return { mechanism: 'PLAIN', authzid: parts[0]!, authcid: parts[1]!, password: parts[2]! };
  }
}
