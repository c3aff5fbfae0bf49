/**
 * What a configuration reload (SIGHUP, as infinoted) can apply to a running tandemd, and what
 * only takes effect after a restart: the listening socket, the storage root, the TLS credentials
 * and the note plugins are fixed for the lifetime of the process.
 */
import type { TandemdOptions } from '../config/options.js';

const RESTART_ONLY: readonly [keyof TandemdOptions, string][] = [
  ['port', 'port'], ['wsPort', 'ws-port'], ['webEditor', 'web-editor'], ['listenAddress', 'listen-address'], ['rootDirectory', 'root-directory'],
  ['keyFile', 'key-file'], ['certificateFile', 'certificate-file'], ['certificateChain', 'certificate-chain'],
];

/** Messages for changed options that a reload cannot apply. */
export function restartOnlyChanges(old: TandemdOptions, next: TandemdOptions, noteTypes: (o: TandemdOptions) => string[]): string[] {
  const out: string[] = [];
  for (const [prop, key] of RESTART_ONLY) {
    if (old[prop] !== next[prop]) out.push(`"${key}" changed: it takes effect after a restart`);
  }
  if (JSON.stringify(old.journal) !== JSON.stringify(next.journal)) out.push('"journal-sync" changed: it takes effect after a restart');
  if (noteTypes(old).join(';') !== noteTypes(next).join(';')) out.push('The note plugins changed: they take effect after a restart');
  // A TLS listener cannot be added to a running plain-TCP server.
  if (old.securityPolicy === 'no-tls' && next.securityPolicy !== 'no-tls') {
    out.push(`"security-policy" ${next.securityPolicy} needs TLS credentials: it takes effect after a restart`);
  }
  return out;
}
