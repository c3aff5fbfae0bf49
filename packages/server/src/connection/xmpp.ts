/**
 * Server side of infinoted's XMPP subset (protocol.md §1): stream header, features by security
 * policy, STARTTLS, SASL with the empty initial challenge, stream restarts, stream errors.
 * Pure: it is fed parser events and returns what to do; the Connection does the I/O.
 */
import { Element, escapeAttribute } from '@tandem/protocol';
import type { AuthPolicy } from '../auth.js';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';

export type TlsPolicy = 'no-tls' | 'allow-tls' | 'require-tls';

export type Action =
  | { kind: 'send'; data: string | Element }
  /** Send `<proceed/>`, then run a TLS server handshake on the socket and start a new parser. */
  | { kind: 'starttls' }
  /** After `<success/>`: the parser must accept a new stream header. */
  | { kind: 'restart' }
  | { kind: 'authenticated'; user: string; mechanism: string }
  /** The stream is open; application stanzas follow. */
  | { kind: 'open' }
  /** Stream error (or none) then `</stream:stream>` and close. */
  | { kind: 'close'; condition?: string; abortSasl?: boolean };

type State = 'header' | 'negotiate' | 'sasl' | 'header-after-auth' | 'open' | 'closed';

const SASL_FAILURE_CONDITIONS = new Set(['not-authorized', 'invalid-mechanism', 'incorrect-encoding', 'temporary-auth-failure', 'aborted']);

export class ServerNegotiation {
  private state: State = 'header';
  private secured = false;
  private mechanism: string | undefined;

  constructor(
    private readonly hostName: string,
    private readonly policy: TlsPolicy,
    private readonly auth: AuthPolicy,
    /** False when the transport cannot do TLS (in-memory pairs); then STARTTLS is not offered. */
    private readonly canTls: boolean,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isSecured(): boolean {
    return this.secured;
  }

  private header(): string {
    return `<stream:stream xmlns:stream="${NS_STREAMS}" xmlns="jabber:client" version="1.0" from="${escapeAttribute(this.hostName)}">`;
  }

  private offerTls(): boolean {
    return this.policy !== 'no-tls' && this.canTls && !this.secured;
  }

  private features(): Element {
    const f = new Element('stream:features');
    if (this.offerTls()) {
      const st = f.c('starttls', { xmlns: NS_TLS });
      if (this.policy === 'require-tls') st.c('required');
    }
    const m = f.c('mechanisms', { xmlns: NS_SASL });
    for (const mech of this.auth.mechanisms) m.c('mechanism').t(mech);
    return f;
  }

  /** The peer's stream header arrived. */
  onHeader(el: Element): Action[] {
    if (el.name !== 'stream:stream') return [{ kind: 'close' }];
    if (this.state === 'header') {
      this.state = 'negotiate';
      return [{ kind: 'send', data: this.header() }, { kind: 'send', data: this.features() }];
    }
    if (this.state === 'header-after-auth') {
      this.state = 'open';
      return [{ kind: 'send', data: this.header() + '<stream:features/>' }, { kind: 'open' }];
    }
    return [{ kind: 'close', condition: 'bad-format' }];
  }

  /** After the TLS handshake the client starts a fresh stream. */
  onTlsEstablished(): void {
    this.secured = true;
    this.state = 'header';
  }

  /** A stanza before the stream is open. */
  onStanza(el: Element): Action[] {
    if (this.state === 'negotiate') {
      if (el.name === 'starttls' && this.offerTls()) return [{ kind: 'starttls' }];
      if (el.name === 'auth' && !(this.policy === 'require-tls' && this.canTls && !this.secured)) {
        const mech = el.attrs.mechanism;
        // Text inside <auth> is ignored: libinfinity always starts with an empty challenge (§10.4).
        if (typeof mech !== 'string' || !this.auth.mechanisms.includes(mech)) return [this.failure('invalid-mechanism')];
        this.mechanism = mech;
        this.state = 'sasl';
        return [{ kind: 'send', data: new Element('challenge', { xmlns: NS_SASL }) }];
      }
      return [{ kind: 'close', condition: 'not-authorized' }];
    }
    if (this.state === 'sasl') {
      if (el.name === 'auth') return [];
      if (el.name === 'abort') {
        this.state = 'negotiate';
        return [this.failure('aborted')];
      }
      if (el.name !== 'response') return [{ kind: 'close', condition: 'not-authorized', abortSasl: true }];
      const text = el.getText().trim();
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
        this.state = 'negotiate';
        return [this.failure('incorrect-encoding')];
      }
      const mech = this.mechanism!;
      const result = this.auth.authenticate(mech, Buffer.from(text, 'base64'));
      if (!result.ok) {
        // The stream stays open and the client may try again (cap 04a).
        this.state = 'negotiate';
        return [this.failure(result.condition, result.detail)];
      }
      this.state = 'header-after-auth';
      return [
        { kind: 'send', data: new Element('success', { xmlns: NS_SASL }) },
        { kind: 'restart' },
        { kind: 'authenticated', user: result.user, mechanism: mech },
      ];
    }
    return [{ kind: 'close', condition: 'not-authorized' }];
  }

  private failure(condition: string, detail?: number): Action {
    const f = new Element('failure', { xmlns: NS_SASL });
    const c = f.c(SASL_FAILURE_CONDITIONS.has(condition) ? condition : 'temporary-auth-failure');
    if (detail !== undefined) {
      c.c('error', { code: String(detail), domain: 'INF_AUTHENTICATION_DETAIL_ERROR' }).t(AUTH_DETAIL_MESSAGES[detail] ?? 'Authentication failed');
    }
    return { kind: 'send', data: f };
  }

  close(): void {
    this.state = 'closed';
  }

  /** Whether a SASL exchange is running (then a forced close first sends `<abort/>`, §1.5). */
  get inSasl(): boolean {
    return this.state === 'sasl';
  }
}

const AUTH_DETAIL_MESSAGES: Record<number, string> = {
  0: 'User did not provide valid credentials.',
  1: 'User is not permitted to connect to this server.',
  2: 'Authentication was temporarily interrupted on the server side.',
  3: 'An error cocured while checking user permissions.',
};


export function streamError(condition: string): string {
  return `<stream:error><${condition} xmlns="${NS_STREAM_ERRORS}"/></stream:error>`;
}
