/**
 * The fixed XMPP elements of the infinoted stream layer (protocol.md 1.3-1.7), byte-exact.
 */
import { Element } from '@xmpp/xml';
import { serialize } from '../xml/serialize.js';
import { escapeAttribute } from '../xml/chars.js';
import { toErrorElement, type InfError } from '../errors.js';

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';

/** infinoted's --security-policy (infinoted-parameter.c: ONLY_UNSECURED, BOTH_PREFER_TLS, ONLY_TLS). */
export type SecurityPolicy = 'no-tls' | 'allow-tls' | 'require-tls';
export type SaslMechanism = 'ANONYMOUS' | 'PLAIN';

/** RFC 3920 stream error conditions libinfinity recognises (protocol.md 1.7). */
export const STREAM_ERROR_CONDITIONS = [
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone', 'host-unknown',
  'improper-addressing', 'internal-server-error', 'invalid-from', 'invalid-id', 'invalid-namespace',
  'invalid-xml', 'not-authorized', 'policy-violation', 'remote-connection-failed', 'resource-constraint',
  'restricted-xml', 'see-other-host', 'system-shutdown', 'undefined-condition', 'unsupported-encoding',
  'unsupported-stanza-type', 'unsupported-version', 'xml-not-well-formed',
] as const;
export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];

/** SASL <failure> conditions (RFC 4422 / 3920 6.4). */
export const SASL_FAILURE_CONDITIONS = [
  'aborted', 'incorrect-encoding', 'invalid-authzid', 'invalid-mechanism', 'mechanism-too-weak',
  'not-authorized', 'temporary-auth-failure',
] as const;
export type SaslFailureCondition = (typeof SASL_FAILURE_CONDITIONS)[number];

export const STREAM_CLOSE = '</stream:stream>';

/** The libinfinity client header; HOST is what the user typed. */
export function clientHeader(host: string): string {
  return `<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="${NS_STREAMS}" to="${escapeAttribute(host, false)}">`;
}

/** infinoted's header: no id, no xml:lang; `from` is the machine's host name. */
export function serverHeader(host: string): string {
  return `<stream:stream xmlns:stream="${NS_STREAMS}" xmlns="jabber:client" version="1.0" from="${escapeAttribute(host, false)}">`;
}

/**
 * <stream:features> as infinoted sends it: starttls (with <required/> under require-tls) while
 * not yet secured, then the mechanisms; empty once authenticated.
 */
export function features(opts: { starttls: 'none' | 'offered' | 'required'; mechanisms: readonly SaslMechanism[] }): Element {
  const f = new Element('stream:features');
  if (opts.starttls !== 'none') {
    const tls = f.c('starttls', { xmlns: NS_TLS });
    if (opts.starttls === 'required') tls.c('required');
  }
  if (opts.mechanisms.length > 0) {
    const m = f.c('mechanisms', { xmlns: NS_SASL });
    for (const mech of opts.mechanisms) m.c('mechanism').t(mech);
  }
  return f;
}

export const sasl = (name: string, text?: string): Element => {
  const el = new Element(name, { xmlns: NS_SASL });
  if (text) el.t(text);
  return el;
};

export const tls = (name: 'starttls' | 'proceed' | 'failure'): Element => new Element(name, { xmlns: NS_TLS });

/** `<failure xmlns=sasl><CONDITION>[<error code domain>text</error>]</CONDITION></failure>`. */
export function saslFailure(condition: SaslFailureCondition, detail?: InfError): Element {
  const f = sasl('failure');
  const c = f.c(condition);
  if (detail) c.cnode(toErrorElement(detail));
  return f;
}

/** infinoted never attaches <text> (protocol.md 10.5). */
export function streamError(condition: StreamErrorCondition): string {
  const el = new Element('stream:error');
  el.c(condition, { xmlns: NS_STREAM_ERRORS });
  return serialize(el);
}

/** Base64 of UTF-8 text, as GSASL encodes the response. */
export function base64Encode(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Strict RFC 4648 base64 (no white space, correct padding), else undefined. */
export function base64Decode(b64: string): Uint8Array | undefined {
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}
