/**
 * The client side of the infinoted stream layer as a state machine, sending exactly what a
 * libinfinity 0.7 client sends (inf-xmpp-connection.c client half; protocol.md 1.3-1.6).
 */
import type { Element } from '@xmpp/xml';
import { fromErrorElement, type InfError } from '../errors.js';
import { XmlParser, type XmlLimits } from '../xml/parser.js';
import { serialize } from '../xml/serialize.js';
import {
  base64Encode, clientHeader, sasl, STREAM_CLOSE, streamError, tls,
  type SaslMechanism, type SecurityPolicy, type StreamErrorCondition,
} from './elements.js';

/** Credentials the client may use; the server's offer decides which one is sent. */
export interface ClientSasl {
  /** Trace token for ANONYMOUS (Gobby sends the user name). */
  anonymous?: { trace: string };
  plain?: { authzid?: string; authcid: string; password: string };
}

export type ClientAction =
  | { type: 'send'; data: string }
  /** <proceed/> arrived: run the TLS client handshake on the transport, then call tlsEstablished(). */
  | { type: 'starttls' }
  /** The SASL exchange failed; the stream stays open: retry(...) or close(). */
  | { type: 'auth-failed'; condition: string; detail?: InfError }
  /** Authenticated and the stream reopened: application stanzas may flow (the welcome comes next). */
  | { type: 'ready' }
  | { type: 'stanza'; element: Element }
  | { type: 'peer-error'; condition: string }
  /** The stream is over; `message` explains a local refusal (e.g. TLS policy), `refusal` names it. */
  | { type: 'close'; reason: 'peer-closed' | 'error' | 'closed'; condition?: string; message?: string; refusal?: ClientRefusal };

/** Why the client gave up on its own, so callers branch on a name rather than on message text. */
export type ClientRefusal = 'tls-required' | 'tls-unavailable' | 'starttls-refused' | 'no-mechanism';

export interface ClientStreamOptions {
  /** Sent as `to`: the host name the user typed. */
  host: string;
  /** no-tls = ONLY_UNSECURED, allow-tls = BOTH_PREFER_TLS (Gobby's default), require-tls = ONLY_TLS. */
  policy: SecurityPolicy;
  sasl: ClientSasl;
  limits?: Partial<XmlLimits>;
}

type State = 'idle' | 'header' | 'features' | 'proceed' | 'tls' | 'challenge' | 'result' | 'failed' | 'open' | 'closing' | 'closed';

export class ClientStream {
  private state: State = 'idle';
  private parser: XmlParser;
  private secure = false;
  private authenticated = false;
  private mechanism: SaslMechanism | undefined;
  private offered: SaslMechanism[] = [];

  constructor(private readonly options: ClientStreamOptions) {
    this.parser = new XmlParser({ limits: options.limits });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isSecure(): boolean {
    return this.secure;
  }

  /** The SASL mechanisms (of those this client knows) the server offered, once its features arrived. */
  get offeredMechanisms(): readonly SaslMechanism[] {
    return this.offered;
  }

  /** The first bytes to send once the transport is connected. */
  start(): ClientAction[] {
    if (this.state !== 'idle') return [];
    this.state = 'header';
    return [{ type: 'send', data: clientHeader(this.options.host) }];
  }

  receive(chunk: Uint8Array | string): ClientAction[] {
    if (this.state === 'closed') return [];
    this.parser.push(chunk);
    return this.drain([]);
  }

  transportClosed(): ClientAction[] {
    if (this.state === 'closed') return [];
    this.state = 'closed';
    return [{ type: 'close', reason: 'closed' }];
  }

  /** TLS is up: a fresh stream starts inside it. */
  tlsEstablished(): ClientAction[] {
    if (this.state !== 'tls') return [];
    this.secure = true;
    this.parser = new XmlParser({ limits: this.options.limits });
    this.state = 'header';
    return [{ type: 'send', data: clientHeader(this.options.host) }];
  }

  /** After 'auth-failed': try again, optionally with other credentials (libinfinity: the application retries). */
  retry(credentials?: ClientSasl): ClientAction[] {
    if (this.state !== 'failed') return [];
    if (credentials) this.options.sasl = credentials;
    const out: ClientAction[] = [];
    this.authenticate(out);
    return this.drain(out);
  }

  /** Orderly close: </stream:stream>, then wait for the server's. */
  close(): ClientAction[] {
    if (this.state === 'closed' || this.state === 'closing') return [];
    if (this.state === 'idle' || this.state === 'tls') {
      this.state = 'closed';
      return [{ type: 'close', reason: 'closed' }];
    }
    const out: ClientAction[] = [];
    this.sendClose(out);
    this.state = 'closing';
    return out;
  }

  private sendClose(out: ClientAction[]): void {
    if (this.state === 'challenge' || this.state === 'result') out.push({ type: 'send', data: serialize(sasl('abort')) });
    out.push({ type: 'send', data: STREAM_CLOSE });
  }

  /** A local refusal: the error is ours to report, the server just sees the stream end. */
  private giveUp(out: ClientAction[], refusal: ClientRefusal, message: string): void {
    this.sendClose(out);
    this.state = 'closed';
    out.push({ type: 'close', reason: 'error', message, refusal });
  }

  private streamFail(out: ClientAction[], condition: StreamErrorCondition, message: string): void {
    if (this.state !== 'header' && this.state !== 'closing') {
      out.push({ type: 'send', data: streamError(condition) });
      this.sendClose(out);
    }
    this.state = 'closed';
    out.push({ type: 'close', reason: 'error', condition, message });
  }

  private drain(out: ClientAction[]): ClientAction[] {
    while (this.state !== 'closed' && this.state !== 'tls' && this.state !== 'idle') {
      const ev = this.parser.next();
      if (!ev) break;
      switch (ev.type) {
        case 'error':
          this.streamFail(out, ev.error.condition, ev.error.message);
          break;
        case 'open':
          if (ev.element.name !== 'stream:stream' || this.state !== 'header') {
            this.streamFail(out, 'bad-format', `Unexpected <${ev.element.name}>`);
          } else {
            this.state = 'features';
          }
          break;
        case 'close':
          if (this.state !== 'closing') out.push({ type: 'send', data: STREAM_CLOSE });
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

  private onElement(out: ClientAction[], el: Element): void {
    if (el.name === 'stream:error') {
      const cond = el.children.find((c): c is Element => typeof c !== 'string');
      out.push({ type: 'peer-error', condition: cond?.name ?? 'undefined-condition' });
      return;
    }
    switch (this.state) {
      case 'open':
        out.push({ type: 'stanza', element: el });
        return;
      case 'features':
        return this.onFeatures(out, el);
      case 'proceed':
        if (el.name === 'proceed') {
          this.state = 'tls';
          out.push({ type: 'starttls' });
        } else {
          this.giveUp(out, 'starttls-refused', 'The server refused to start TLS');
        }
        return;
      case 'challenge':
        if (el.name === 'challenge') {
          // libinfinity never sends an initial response; the credentials answer the empty challenge.
          out.push({ type: 'send', data: serialize(sasl('response', base64Encode(this.token()))) });
          this.state = 'result';
          return;
        }
        return this.onResult(out, el);
      case 'result':
        return this.onResult(out, el);
      case 'closing':
        return;
      default:
        this.streamFail(out, 'bad-format', `Unexpected <${el.name}>`);
    }
  }

  private onFeatures(out: ClientAction[], el: Element): void {
    if (el.name !== 'stream:features') {
      this.streamFail(out, 'bad-format', `Expected <stream:features>, got <${el.name}>`);
      return;
    }
    if (this.authenticated) {
      this.state = 'open';
      out.push({ type: 'ready' });
      return;
    }
    const { policy } = this.options;
    if (!this.secure) {
      const starttls = el.getChild('starttls');
      if (!starttls && policy === 'require-tls') {
        return this.giveUp(out, 'tls-unavailable', 'The server does not support transport layer security (TLS)');
      }
      if (starttls) {
        const required = starttls.getChild('required') !== undefined;
        if (required && policy === 'no-tls') return this.giveUp(out, 'tls-required', 'The server requires transport layer security (TLS)');
        if (required || policy !== 'no-tls') {
          out.push({ type: 'send', data: serialize(tls('starttls')) });
          this.state = 'proceed';
          return;
        }
      }
    }
    const mechs = el.getChild('mechanisms');
    if (!mechs) return this.giveUp(out, 'no-mechanism', 'The server does not provide any authentication mechanism');
    this.offered = mechs
      .getChildren('mechanism')
      .map((m) => m.getText().trim())
      .filter((m): m is SaslMechanism => m === 'ANONYMOUS' || m === 'PLAIN');
    this.authenticate(out);
  }

  /** Picks PLAIN when offered and configured, else ANONYMOUS, and sends <auth/>. */
  private authenticate(out: ClientAction[]): void {
    const { sasl: creds } = this.options;
    const mech: SaslMechanism | undefined =
      this.offered.includes('PLAIN') && creds.plain ? 'PLAIN' : this.offered.includes('ANONYMOUS') && creds.anonymous ? 'ANONYMOUS' : undefined;
    if (!mech) {
      return this.giveUp(out, 'no-mechanism', `No configured SASL mechanism is offered (server offers: ${this.offered.join(', ') || 'none'})`);
    }
    this.mechanism = mech;
    const auth = sasl('auth');
    auth.attrs.mechanism = mech;
    out.push({ type: 'send', data: serialize(auth) });
    this.state = 'challenge';
  }

  private token(): string {
    const { sasl: creds } = this.options;
    if (this.mechanism === 'PLAIN' && creds.plain) {
      return `${creds.plain.authzid ?? ''}\0${creds.plain.authcid}\0${creds.plain.password}`;
    }
    return creds.anonymous?.trace ?? '';
  }

  private onResult(out: ClientAction[], el: Element): void {
    if (el.name === 'success') {
      this.authenticated = true;
      // Stream restart (RFC 3920 6.2): a fresh parser state, same byte stream.
      this.parser.restart();
      this.state = 'header';
      out.push({ type: 'send', data: clientHeader(this.options.host) });
      return;
    }
    if (el.name === 'failure') {
      const cond = el.children.find((c): c is Element => typeof c !== 'string');
      const detailEl = cond?.getChild('error');
      let detail: InfError | undefined;
      if (detailEl) {
        try {
          detail = fromErrorElement(detailEl);
        } catch {
          detail = undefined;
        }
      }
      this.state = 'failed';
      out.push(detail ? { type: 'auth-failed', condition: cond?.name ?? 'not-authorized', detail } : { type: 'auth-failed', condition: cond?.name ?? 'not-authorized' });
      return;
    }
    this.streamFail(out, 'bad-format', `Unexpected <${el.name}> during authentication`);
  }
}
