/**
 * SASL policies (protocol.md §1.5). infinoted offers ANONYMOUS, or only PLAIN when --password is
 * set; the password is compared in constant time and the authcid is used only for the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SaslCredentials, SaslFailureCondition, SaslMechanism } from '@tandem/protocol';

export type AuthResult =
  | { ok: true; user: string }
  /** SASL failure condition plus an optional INF_AUTHENTICATION_DETAIL_ERROR code. */
  | { ok: false; condition: SaslFailureCondition; detail?: number };

export interface AuthPolicy {
  /** Mechanisms offered, in order. */
  readonly mechanisms: readonly SaslMechanism[];
  /**
   * Checks the credentials of an exchange with an offered mechanism. Malformed tokens (empty
   * ANONYMOUS trace, PLAIN without two NULs) never get here: ServerStream answers them.
   */
  authenticate(credentials: SaslCredentials): AuthResult;
}

/** ANONYMOUS: any non-empty trace token, which names the user in the log. */
export function anonymous(): AuthPolicy {
  return {
    mechanisms: ['ANONYMOUS'],
    authenticate(c) {
      if (c.mechanism !== 'ANONYMOUS') return { ok: false, condition: 'invalid-mechanism' };
      return { ok: true, user: c.trace };
    },
  };
}

/** PLAIN against one shared password: "authzid NUL authcid NUL password" (RFC 4616). */
export function plain(options: { password: string }): AuthPolicy {
  // Hashing both sides gives equal-length inputs, so the comparison time does not leak the length.
  const expected = createHash('sha256').update(options.password, 'utf8').digest();
  return {
    mechanisms: ['PLAIN'],
    authenticate(c) {
      if (c.mechanism !== 'PLAIN') return { ok: false, condition: 'invalid-mechanism' };
      const given = createHash('sha256').update(c.password, 'utf8').digest();
      if (!timingSafeEqual(given, expected)) return { ok: false, condition: 'not-authorized', detail: 0 };
      return { ok: true, user: c.authcid };
    },
  };
}
