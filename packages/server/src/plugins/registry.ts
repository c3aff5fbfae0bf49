/**
 * Plugins by name, built from their configuration group (infinoted's [PLUGIN] key-file groups
 * and --plugin-parameter=PLUGIN:KEY:VALUE, already merged into one KeyFile by config/options.ts).
 * Parameter types and requirements follow each plugin's InfinotedParameterInfo table.
 */
import type { KeyFile } from '../config/keyfile.js';
import type { CertificateAuthOptions } from '../accounts/certificate-auth.js';
import { AutosavePlugin } from './autosave.js';
import { DirectorySyncPlugin } from './directory-sync.js';
import { LinekeeperPlugin } from './linekeeper.js';
import { LoggingPlugin } from './logging.js';
import { RecordPlugin } from './record.js';
import { TrafficLoggingPlugin } from './traffic-logging.js';
import { DEFAULT_MAX_VDIFF, TransformationProtectionPlugin } from './transformation-protection.js';
import type { Plugin } from './types.js';

export class PluginConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginConfigError';
  }
}

/** infinoted plugins that tandemd does not provide, and why (also in docs/features.md). */
export const UNSUPPORTED_PLUGINS: Readonly<Record<string, string>> = {
  dbus: 'D-Bus is Linux-desktop specific; use the tandem CLI (ls, mkdir, rm, cat, put) or @tandem/client instead',
  'document-stream': 'the abstract Unix socket is Linux-desktop specific; use `tandem watch` / `tandem cat` or @tandem/client instead',
};

interface Env {
  /** Storage root, passed to the autosave hook. */
  rootDirectory: string;
}

type Kind = 'positive' | 'nonnegative' | 'string' | 'boolean' | 'list';
interface Param { key: string; kind: Kind; required?: boolean }

const PARAMS: Record<string, Param[]> = {
  autosave: [{ key: 'interval', kind: 'positive', required: true }, { key: 'hook', kind: 'string' }],
  'directory-sync': [
    { key: 'directory', kind: 'string', required: true }, { key: 'interval', kind: 'positive', required: true },
    { key: 'hook', kind: 'string' },
  ],
  linekeeper: [{ key: 'n-lines', kind: 'nonnegative', required: true }],
  logging: [
    { key: 'log-connections', kind: 'boolean' }, { key: 'log-connection-errors', kind: 'boolean' },
    { key: 'log-session-errors', kind: 'boolean' }, { key: 'log-session-request-extra', kind: 'boolean' },
  ],
  // `directory` is a tandemd extension; infinoted always writes to ~/.infinoted-records.
  record: [{ key: 'directory', kind: 'string' }],
  'traffic-logging': [{ key: 'path', kind: 'string', required: true }],
  'transformation-protection': [{ key: 'max-vdiff', kind: 'nonnegative' }],
};

/** Names of the plugins this module builds. */
export const SERVER_PLUGINS: readonly string[] = Object.keys(PARAMS);

/** Edit distance, for suggesting the plugin a mistyped name meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The error for a plugin name nobody provides. infinoted refuses to start then (it cannot load
 * libinfinoted-plugin-NAME.so); so does tandemd, naming the closest known plugin.
 */
export function unknownPluginError(name: string, known: readonly string[]): PluginConfigError {
  const sorted = [...new Set(known)].sort();
  const best = sorted.map((k) => ({ k, d: distance(name.toLowerCase(), k) })).sort((x, y) => x.d - y.d)[0];
  const hint = best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best.k}"?)` : '';
  return new PluginConfigError(`Unknown plugin "${name}"${hint}; the plugins are: ${sorted.join(', ')}`);
}

/**
 * certificate-auth configures the server and its TLS listener rather than hooking into it, so the
 * daemon applies it itself (infinoted-plugin-certificate-auth.c's parameter table).
 */
const CERTIFICATE_AUTH_PARAMS: Param[] = [
  { key: 'ca-list', kind: 'string', required: true }, { key: 'ca-key', kind: 'string' },
  { key: 'accept-unauthenticated-clients', kind: 'boolean' }, { key: 'super-user', kind: 'string' },
  { key: 'verification-flags', kind: 'list' },
];

type Values = Map<string, string | number | boolean | string[]>;

function readParams(name: string, kf: KeyFile, specs: readonly Param[] = PARAMS[name]!): Values {
  const out: Values = new Map();
  for (const key of kf.keys(name)) {
    if (!specs.some((s) => s.key === key)) throw new PluginConfigError(`Plugin "${name}" has no parameter "${key}"`);
  }
  for (const s of specs) {
    let v: string | number | boolean | string[] | undefined;
    try {
      if (s.kind === 'boolean') v = kf.getBoolean(name, s.key);
      else if (s.kind === 'list') v = kf.getStringList(name, s.key);
      else if (s.kind === 'string') v = kf.getString(name, s.key);
      else v = kf.getInteger(name, s.key);
    } catch (err) {
      throw new PluginConfigError(`Plugin "${name}": ${(err as Error).message}`);
    }
    if (v === undefined) {
      if (s.required) throw new PluginConfigError(`Plugin "${name}" needs the parameter "${s.key}" (config group [${name}] or --plugin-parameter=${name}:${s.key}:VALUE)`);
      continue;
    }
    // infinoted_parameter_convert_positive / _nonnegative
    if (s.kind === 'positive' && (v as number) <= 0) throw new PluginConfigError(`Plugin "${name}": "${s.key}" must be a positive number`);
    if (s.kind === 'nonnegative' && (v as number) < 0) throw new PluginConfigError(`Plugin "${name}": "${s.key}" must not be negative`);
    if (s.kind === 'string' && v === '') throw new PluginConfigError(`Plugin "${name}": "${s.key}" must not be empty`);
    out.set(s.key, v);
  }
  return out;
}

function build(name: string, p: Values, env: Env): Plugin {
  const str = (k: string): string | undefined => p.get(k) as string | undefined;
  const num = (k: string): number => p.get(k) as number;
  const hook = str('hook');
  switch (name) {
    case 'autosave':
      return new AutosavePlugin({ intervalMs: num('interval') * 1000, rootDirectory: env.rootDirectory, ...(hook !== undefined ? { hook } : {}) });
    case 'directory-sync':
      return new DirectorySyncPlugin({ directory: str('directory')!, intervalMs: num('interval') * 1000, ...(hook !== undefined ? { hook } : {}) });
    case 'linekeeper':
      return new LinekeeperPlugin(num('n-lines'));
    case 'logging': {
      const b = (k: string): boolean => (p.get(k) as boolean | undefined) ?? true;
      return new LoggingPlugin({
        logConnections: b('log-connections'), logConnectionErrors: b('log-connection-errors'),
        logSessionErrors: b('log-session-errors'), logSessionRequestExtra: b('log-session-request-extra'),
      });
    }
    case 'record': {
      const directory = str('directory');
      return new RecordPlugin(directory !== undefined ? { directory } : {});
    }
    case 'traffic-logging':
      return new TrafficLoggingPlugin(str('path')!);
    case 'transformation-protection':
      return new TransformationProtectionPlugin((p.get('max-vdiff') as number | undefined) ?? DEFAULT_MAX_VDIFF);
  }
  throw new PluginConfigError(`Unknown plugin "${name}"`);
}

/**
 * Builds the plugins named in `names` that this module knows (others are note plugins or
 * unsupported; the caller reports them). transformation-protection is always loaded: listing it
 * only matters to set max-vdiff. Throws PluginConfigError on a bad parameter.
 */
export function buildPlugins(names: readonly string[], kf: KeyFile, env: Env): Plugin[] {
  const wanted = [...new Set(names.filter((n) => SERVER_PLUGINS.includes(n)))];
  if (!wanted.includes('transformation-protection')) wanted.push('transformation-protection');
  return wanted.map((n) => build(n, readParams(n, kf), env));
}

/**
 * The certificate-auth options when `names` lists the plugin, from its [certificate-auth] group
 * (and --plugin-parameter=certificate-auth:KEY:VALUE); undefined otherwise. Throws
 * PluginConfigError on a missing ca-list or an unknown or malformed parameter.
 */
export function certificateAuthOptions(names: readonly string[], kf: KeyFile): CertificateAuthOptions | undefined {
  if (!names.includes('certificate-auth')) return undefined;
  const p = readParams('certificate-auth', kf, CERTIFICATE_AUTH_PARAMS);
  const caKey = p.get('ca-key') as string | undefined;
  const accept = p.get('accept-unauthenticated-clients') as boolean | undefined;
  const superUser = p.get('super-user') as string | undefined;
  const flags = p.get('verification-flags') as string[] | undefined;
  return {
    caList: p.get('ca-list') as string,
    ...(caKey !== undefined ? { caKey } : {}),
    ...(accept !== undefined ? { acceptUnauthenticatedClients: accept } : {}),
    ...(superUser !== undefined ? { superUser } : {}),
    ...(flags !== undefined ? { verificationFlags: flags.filter((f) => f !== '') } : {}),
  };
}
