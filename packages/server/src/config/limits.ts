/**
 * tandemd's limit options (docs/server.md, "Limits"): each one is a key of the [infinoted] group
 * and a command-line flag of the same name, laid into config/options.ts's option table. Values
 * are whole numbers; 0 switches a limit off. Not infinoted options: infinoted has no such limits.
 */
import { type ServerLimits, defaultServerLimits } from '../limits.js';

interface LimitOption {
  long: string;
  kind: 'int';
  configKey: string;
  arg: string;
  help: string;
  prop: keyof ServerLimits;
  /** The option's unit in the limit's (1000 for seconds -> ms). */
  scale: number;
  /** 0 means "none" rather than "no limit" (a delay). */
  zeroIsZero?: boolean;
}

function limit(key: string, prop: keyof ServerLimits, help: string, o: { arg?: string; scale?: number; zeroIsZero?: boolean } = {}): LimitOption {
  const scale = o.scale ?? 1;
  return {
    long: key, kind: 'int', configKey: key, arg: o.arg ?? 'N', prop, scale,
    help: `${help} [Default=${defaultServerLimits[prop] / scale}${o.zeroIsZero ? '' : '; 0: no limit'}]`,
    ...(o.zeroIsZero ? { zeroIsZero: true } : {}),
  };
}

export const LIMIT_OPTIONS: readonly LimitOption[] = [
  limit('max-connections', 'maxConnections', 'Connections open at once'),
  limit('max-connections-per-address', 'maxConnectionsPerAddress', 'Connections from one IP address (loopback is exempt)'),
  limit('handshake-timeout', 'handshakeTimeoutMs', 'Seconds a connection may take to log in', { arg: 'SECONDS', scale: 1000 }),
  limit('max-auth-failures', 'maxAuthFailures', 'Failed password attempts before the connection is closed'),
  limit('auth-failure-delay', 'authFailureDelayMs', 'Milliseconds before a failed password attempt is answered', { arg: 'MS', zeroIsZero: true }),
  limit('relay-batch', 'relayBatchMs', 'Milliseconds that edits relayed to a client may wait to go out together with the next ones', { arg: 'MS', zeroIsZero: true }),
  limit('max-users-per-session', 'maxUsersPerSession', 'Users one document may have'),
  limit('max-document-length', 'maxDocumentLength', 'Characters (code points) in one document'),
  limit('max-translation-steps', 'maxTranslationSteps', 'Transformation steps one edit may need; the sender of an edit that needs more is unsubscribed'),
  limit('max-nodes', 'maxNodes', 'Documents and directories the server holds'),
  limit('max-subscriptions-per-connection', 'maxSubscriptionsPerConnection', 'Documents one connection may subscribe to'),
  limit('max-sync-in-messages', 'maxSyncInMessages', 'Messages an uploaded document (sync-in) may have'),
  limit('max-sync-in-bytes', 'maxSyncInBytes', 'Bytes the uploads (sync-in) of one connection may hold'),
  limit('max-stanza-size', 'maxElementBytes', 'Bytes of one XML element from a client'),
  limit('max-unsent-output', 'maxPendingOutputBytes', 'Bytes of output a client may leave unread before it is disconnected'),
];

/**
 * Every limit, from the configuration where set, else its default. `get` reads a key of
 * [infinoted] (command line already laid over the file); `error` makes the error to throw.
 */
export function resolveLimits(get: (key: string) => string | undefined, error: (message: string) => Error): ServerLimits {
  const limits: ServerLimits = { ...defaultServerLimits };
  for (const o of LIMIT_OPTIONS) {
    const text = get(o.configKey)?.trim();
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n * o.scale)) {
      throw error(`Invalid ${o.configKey} "${text}": must be a whole number >= 0${o.zeroIsZero ? '' : ' (0: no limit)'}`);
    }
    limits[o.prop] = n === 0 && !o.zeroIsZero ? Infinity : n * o.scale;
  }
  return limits;
}
