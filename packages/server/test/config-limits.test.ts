// The limit options (src/config/limits.ts): [infinoted] keys, command-line flags, units, 0 = off.
import { expect } from 'chai';
import { type Environment, UsageError, helpText, parseCommandLine, resolveOptions } from '../src/config/options.js';
import { LIMIT_OPTIONS } from '../src/config/limits.js';
import { defaultServerLimits } from '../src/limits.js';

function env(files: Record<string, string>): Environment {
  return {
    env: {},
    home: '/home/u',
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  };
}
const CONF = '/home/u/.config/infinoted.conf';

describe('limit options', () => {
  it('default to defaultServerLimits', () => {
    expect(resolveOptions(parseCommandLine([]), env({})).limits).to.deep.equal(defaultServerLimits);
    expect(defaultServerLimits).to.include({
      maxConnections: 4096, maxConnectionsPerAddress: 256, handshakeTimeoutMs: 30_000, maxAuthFailures: 5, authFailureDelayMs: 500,
      maxUsersPerSession: 1024, maxDocumentLength: 64 * 1024 * 1024, maxNodes: 100_000, maxSubscriptionsPerConnection: 1024,
      maxSyncInMessages: 1024 * 1024, maxSyncInBytes: 128 * 1024 * 1024, maxElementBytes: 8 * 1024 * 1024, maxPendingOutputBytes: 64 * 1024 * 1024,
    });
  });

  it('are read from [infinoted] in the configuration file, the command line winning, seconds as seconds', () => {
    const files = { [CONF]: '[infinoted]\nmax-connections=10\nhandshake-timeout=5\nmax-users-per-session=3\nauth-failure-delay=250\n' };
    const o = resolveOptions(parseCommandLine(['--max-connections=20', '--max-nodes', '7']), env(files));
    expect(o.limits).to.include({ maxConnections: 20, handshakeTimeoutMs: 5000, maxUsersPerSession: 3, authFailureDelayMs: 250, maxNodes: 7 });
    expect(o.limits.maxSyncInBytes).to.equal(defaultServerLimits.maxSyncInBytes);
  });

  it('take 0 as no limit, except the delay, where 0 is no delay', () => {
    const o = resolveOptions(parseCommandLine(['--max-connections-per-address=0', '--handshake-timeout=0', '--auth-failure-delay=0']), env({}));
    expect(o.limits).to.include({ maxConnectionsPerAddress: Infinity, handshakeTimeoutMs: Infinity, authFailureDelayMs: 0 });
  });

  it('refuse what is not a whole number, naming the key', () => {
    for (const bad of ['-1', '1.5', 'many', '1e3', '99999999999999999999']) {
      expect(() => resolveOptions(parseCommandLine([`--max-document-length=${bad}`]), env({})), bad).to.throw(UsageError, /Invalid max-document-length/);
    }
    expect(() => resolveOptions(parseCommandLine([]), env({ [CONF]: '[infinoted]\nmax-nodes=lots\n' }))).to.throw(UsageError, /Invalid max-nodes "lots"/);
  });

  it('are all listed in --help with their defaults', () => {
    const help = helpText();
    for (const o of LIMIT_OPTIONS) expect(help).to.include(`--${o.long}=${o.arg}`);
    expect(help).to.match(/--handshake-timeout=SECONDS +Seconds a connection may take to log in \[Default=30; 0: no limit\]/);
  });
});
