/**
 * The hard limits that keep one hostile or broken client from hurting the others: how many
 * connections, how long a login may take, how many password guesses, and how big sessions,
 * uploads and the directory may grow. Every limit is a plain number; Infinity switches it off
 * (a configured 0 becomes Infinity, see config/limits.ts). docs/server.md, "Limits", says what a
 * client sees when it runs into each.
 */
import { type ConnectionLimits, defaultConnectionLimits } from './connection/connection.js';

/** What the directory enforces (directory/directory.ts, session/sync-in.ts). */
export interface DirectoryLimits {
  /** Nodes the server knows (explored or created), root included; add-node beyond is refused. */
  maxNodes: number;
  /** Session subscriptions of one connection, pending ones (subscribe, sync-in) included. */
  maxSubscriptionsPerConnection: number;
  /** Messages a sync-in may announce in its sync-begin. */
  maxSyncInMessages: number;
  /** Bytes (XML as received) that one connection's running sync-ins may hold together. */
  maxSyncInBytes: number;
}

/** What a session enforces (session/text-session.ts, chat/chat-session.ts). */
export interface SessionLimits {
  /** Users a session knows, unavailable ones included; a rejoin of a known name always works. */
  maxUsersPerSession: number;
  /** Length of a text document in Unicode code points. */
  maxDocumentLength: number;
  /**
   * Translation steps (folds, transformations, mirrors) the engine may take for one request; a
   * request needing more (its sender far behind a busy session) is refused and its connection
   * unsubscribed, as transformation-protection does.
   */
  maxTranslationSteps: number;
}

/** What the server itself enforces when a connection arrives (server.ts). */
export interface AdmissionLimits {
  maxConnections: number;
  /** Per remote IP address; loopback addresses are exempt (see isLoopback). */
  maxConnectionsPerAddress: number;
}

export type ServerLimits = AdmissionLimits & ConnectionLimits & DirectoryLimits & SessionLimits;

export const defaultSessionLimits: Readonly<SessionLimits> = Object.freeze({
  maxUsersPerSession: 1024,
  maxDocumentLength: 64 * 1024 * 1024,
  // bench/engine/central.mjs (--lag 48 --requests 2000): 50 typists whose views lag up to 48
  // requests (22 concurrent on average, 5.7 ms of engine time per request, a session already
  // too busy for its server) had requests needing more than 10,000 steps and none more than
  // 100,000. Each step may keep a translation with a vector of every user until the cache ages.
  maxTranslationSteps: 200_000,
});

export const defaultDirectoryLimits: Readonly<DirectoryLimits & SessionLimits> = Object.freeze({
  ...defaultSessionLimits,
  maxNodes: 100_000,
  maxSubscriptionsPerConnection: 1024,
  maxSyncInMessages: 1024 * 1024,
  maxSyncInBytes: 128 * 1024 * 1024,
});

export const defaultServerLimits: Readonly<ServerLimits> = Object.freeze({
  ...defaultConnectionLimits,
  ...defaultDirectoryLimits,
  maxConnections: 4096,
  maxConnectionsPerAddress: 256,
});

/** "::ffff:192.0.2.1" (an IPv4 client of a dual-stack socket) and "192.0.2.1" are one address. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (m ? m[1]! : address).toLowerCase();
}

/**
 * 127.0.0.0/8 and ::1. Exempt from the per-address limit: behind a local reverse proxy or tunnel
 * (a wss:// front end, ssh -L) every client comes from loopback.
 */
export function isLoopback(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '::1' || /^127\./.test(a);
}

/** Length in Unicode code points (what Infinote positions count) of a JS string. */
export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Writes refusal lines at most once a second, so a flood of refused connections cannot flood the
 * log; the next line written says how many were left out.
 */
export class ThrottledLog {
  private last = -Infinity;
  private skipped = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  write(line: string): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) {
      this.skipped++;
      return;
    }
    this.last = t;
    const more = this.skipped > 0 ? ` (and ${this.skipped} more refused since the last report)` : '';
    this.skipped = 0;
    this.log(line + more);
  }
}
