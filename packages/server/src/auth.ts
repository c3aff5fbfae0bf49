/**
 * SASL policies (protocol.md §1.5). infinoted offers ANONYMOUS, or only PLAIN when --password is
 * set; the password is compared in constant time and the authcid is used only for the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult =
  | { ok: true; user: string }
  /** SASL failure condition plus an optional INF_AUTHENTICATION_DETAIL_ERROR code. */
  | { ok: false; condition: 'not-authorized' | 'invalid-mechanism' | 'incorrect-encoding' | 'temporary-auth-failure'; detail?: number };

export interface AuthPolicy {
  /** Mechanisms offered, in order. */
  readonly mechanisms: readonly string[];
  /** Checks the decoded `<response>` payload of an exchange with an offered mechanism. */
  authenticate(mechanism: string, payload: Buffer): AuthResult;
}

/** ANONYMOUS: any non-empty trace token (an empty one is answered invalid-mechanism, cap 04b). */
export function anonymous(): AuthPolicy {
  return {
    mechanisms: ['ANONYMOUS'],
    authenticate(mechanism, payload) {
      if (mechanism !== 'ANONYMOUS' || payload.length === 0) return { ok: false, condition: 'invalid-mechanism' };
      return { ok: true, user: payload.toString('utf8') };
    },
  };
}

/** PLAIN against one shared password: "authzid NUL authcid NUL password" (RFC 4616). */
export function plain(options: { password: string }): AuthPolicy {
  // Hashing both sides gives equal-length inputs, so the comparison time does not leak the length.
  const expected = createHash('sha256').update(options.password, 'utf8').digest();
  return {
    mechanisms: ['PLAIN'],
    authenticate(mechanism, payload) {
      if (mechanism !== 'PLAIN') return { ok: false, condition: 'invalid-mechanism' };
      const parts = payload.toString('utf8').split('\0');
      if (parts.length !== 3) return { ok: false, condition: 'invalid-mechanism' };
      const given = createHash('sha256').update(parts[2]!, 'utf8').digest();
      if (!timingSafeEqual(given, expected)) return { ok: false, condition: 'not-authorized', detail: 0 };
      return { ok: true, user: parts[1]! };
    },
  };
}
