/**
 * tandemd's options: the option table of infinoted 0.7 (infinoted/infinoted-options.c), parsed
 * from the command line GOption-style, laid over the GLib key-file configuration (group
 * [infinoted]; command line wins), then validated into TandemdOptions.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { KeyFile, KeyFileError, escapeValue } from './keyfile.js';
import { LIMIT_OPTIONS, resolveLimits } from './limits.js';
import type { ServerLimits } from '../limits.js';

export type SecurityPolicy = 'no-tls' | 'allow-tls' | 'require-tls';

export interface TandemdOptions {
  port: number;
  /** undefined = all addresses (IPv6 dual stack where available). */
  listenAddress?: string;
  /** WebSocket port for browsers (wss:// when TLS is on); undefined = no WebSocket listener. */
  wsPort?: number;
  /** Whether plain HTTP GETs on the WebSocket port get the web editor (default true). */
  webEditor: boolean;
  securityPolicy: SecurityPolicy;
  keyFile?: string;
  certificateFile?: string;
  certificateChain?: string;
  createKey: boolean;
  createCertificate: boolean;
  rootDirectory: string;
  plugins: string[];
  password?: string;
  logFile?: string;
  /** Crash journal: fdatasync interval in ms (0: after every edit), or false when switched off. */
  journal: { fsyncMs: number } | false;
  /** Every hard limit (config/limits.ts), defaults filled in. */
  limits: ServerLimits;
  /** The configuration file that was read, if any. */
  configFile?: string;
  /** Plugin groups of the configuration (after --plugin-parameter overrides). */
  config: KeyFile;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Kind = 'string' | 'int' | 'list' | 'flag';
interface OptionSpec {
  long: string;
  short?: string;
  kind: Kind;
  /** key in [infinoted]; undefined for command-line-only options */
  configKey?: string;
  arg?: string;
  help: string;
  /** Set for infinoted options that tandemd refuses, with the reason. */
  unsupported?: string;
}

const PAM = 'PAM authentication is not supported by tandemd; use --password (SASL PLAIN) instead';
const DAEMON = 'tandemd does not daemonize itself; run it under a service manager (systemd, runit, a container) instead';

export const OPTION_TABLE: readonly OptionSpec[] = [
  { long: 'config-file', kind: 'string', arg: 'FILE', help: 'Read options from FILE instead of the standard locations' },
  { long: 'log-file', short: 'l', kind: 'string', configKey: 'log-file', arg: 'LOG-FILE', help: 'Also write the server log to LOG-FILE' },
  { long: 'key-file', short: 'k', kind: 'string', configKey: 'key-file', arg: 'KEY-FILE', help: "Path to the server's private key (PEM) [Default: created in the data directory]" },
  { long: 'certificate-file', short: 'c', kind: 'string', configKey: 'certificate-file', arg: 'CERT-FILE', help: "Path to the server's certificate (PEM) [Default: created in the data directory]" },
  { long: 'certificate-chain', kind: 'string', configKey: 'certificate-chain', arg: 'CERT-FILE', help: "File with the issuer certificates of the server's certificate" },
  { long: 'create-key', kind: 'flag', help: 'Create a new 4096-bit RSA key in KEY-FILE' },
  { long: 'create-certificate', kind: 'flag', help: 'Create a new self-signed certificate in CERT-FILE' },
  { long: 'port', short: 'p', kind: 'int', configKey: 'port', arg: 'PORT', help: 'The TCP port number to listen on [Default=6523]' },
  { long: 'ws-port', kind: 'int', configKey: 'ws-port', arg: 'PORT', help: 'Also accept WebSocket connections (browsers) on PORT, wss:// unless no-tls [Default: off]' },
  { long: 'web-editor', kind: 'string', configKey: 'web-editor', arg: 'true|false', help: 'Serve the web editor to browsers on the WebSocket port [Default=true]' },
  { long: 'no-web-editor', kind: 'flag', help: 'The same as --web-editor=false' },
  { long: 'listen-address', kind: 'string', configKey: 'listen-address', arg: 'ADDRESS', help: 'The IP address to listen on [Default: all]' },
  { long: 'security-policy', kind: 'string', configKey: 'security-policy', arg: 'no-tls|allow-tls|require-tls', help: 'Whether to use TLS [Default=require-tls]' },
  { long: 'root-directory', short: 'r', kind: 'string', configKey: 'root-directory', arg: 'DIRECTORY', help: 'Where documents are stored [Default=~/.infinote]' },
  { long: 'plugins', kind: 'list', configKey: 'plugins', arg: 'PLUGIN-NAME', help: 'Plugins to load, repeatable [Default=note-text]' },
  { long: 'plugin-parameter', kind: 'list', arg: 'PLUGIN:KEY:VALUE', help: 'Override a plugin option, repeatable' },
  { long: 'journal-sync', kind: 'string', configKey: 'journal-sync', arg: 'MS|off', help: 'Crash journal of every edit: fdatasync every MS milliseconds, 0 after each edit, off for none [Default=1000]' },
  { long: 'password', short: 'P', kind: 'string', configKey: 'password', arg: 'PASSWORD', help: 'Require clients to log in with this password (SASL PLAIN)' },
  { long: 'pam-service', kind: 'string', configKey: 'pam-service', arg: 'SERVICE', help: 'PAM authentication (not supported)', unsupported: PAM },
  { long: 'pam-allow-user', kind: 'list', configKey: 'pam-allow-user', arg: 'USER', help: 'PAM allow list (not supported)', unsupported: PAM },
  { long: 'pam-allow-group', kind: 'list', configKey: 'pam-allow-group', arg: 'GROUP', help: 'PAM allow list (not supported)', unsupported: PAM },
  { long: 'daemonize', short: 'd', kind: 'flag', help: 'Run in the background (not supported)', unsupported: DAEMON },
  { long: 'kill-daemon', short: 'D', kind: 'flag', help: 'Kill a running daemon (not supported)', unsupported: DAEMON },
  ...LIMIT_OPTIONS,
  { long: 'version', short: 'v', kind: 'flag', help: 'Print the version and exit' },
  { long: 'help', short: 'h', kind: 'flag', help: 'Show this help and exit' },
];

export interface CommandLine {
  /** long name -> values in order given (flags get "") */
  values: Map<string, string[]>;
  help: boolean;
  version: boolean;
}

/** GOption-style parsing: --name=value, --name value, -p 1, -p1, -- ends options. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const values = new Map<string, string[]>();
  const add = (spec: OptionSpec, v: string): void => {
    if (spec.unsupported) throw new UsageError(`--${spec.long}: ${spec.unsupported}`);
    const list = values.get(spec.long) ?? [];
    // Scalars: the last occurrence wins, as in GOption.
    if (spec.kind === 'list') list.push(v);
    else list.splice(0, list.length, v);
    values.set(spec.long, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument "${argv[i + 1]}"`);
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      spec = OPTION_TABLE.find((o) => o.long === name);
      if (!spec) throw new UsageError(`unknown option --${name} (see tandemd --help)`);
    } else if (a.startsWith('-') && a.length > 1) {
      spec = OPTION_TABLE.find((o) => o.short === a[1]);
      if (!spec) throw new UsageError(`unknown option ${a.slice(0, 2)} (see tandemd --help)`);
      if (a.length > 2) inline = a.slice(2);
    } else {
      throw new UsageError(`unexpected argument "${a}" (tandemd takes only options; see tandemd --help)`);
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`option --${spec.long} takes no value`);
      add(spec, '');
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${spec.long} needs a value (${spec.arg})`);
      inline = argv[++i]!;
    }
    add(spec, inline);
  }
  return { values, help: values.has('help'), version: values.has('version') };
}

export function helpText(): string {
  const lines = ['Usage:', '  tandemd [OPTION...] - infinote dedicated server (infinoted 0.7 compatible)', '', 'Options:'];
  for (const o of OPTION_TABLE) {
    const names = `${o.short ? `-${o.short}, ` : '    '}--${o.long}${o.arg ? `=${o.arg}` : ''}`;
    lines.push(`  ${names.padEnd(46)} ${o.help}`);
  }
  lines.push('', 'Configuration file: --config-file, else the first of $XDG_CONFIG_HOME/infinoted.conf',
    'and $XDG_CONFIG_DIRS/infinoted.conf (group [infinoted], same keys as the long options).');
  return lines.join('\n');
}

export interface Environment {
  env: NodeJS.ProcessEnv;
  home: string;
  /** Reads a file; throws with code ENOENT when missing. */
  readFile(path: string): string;
}

export const processEnvironment = (): Environment => ({
  env: process.env,
  home: homedir(),
  readFile: (p) => readFileSync(p, 'utf8'),
});

/** infinoted's search order: $XDG_CONFIG_HOME, then each of $XDG_CONFIG_DIRS; first existing wins. */
export function configSearchPath(e: Environment): string[] {
  const configHome = e.env.XDG_CONFIG_HOME || join(e.home, '.config');
  const dirs = (e.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  return [configHome, ...dirs].map((d) => join(d, 'infinoted.conf'));
}

function loadConfig(cmd: CommandLine, e: Environment): { file?: string; kf: KeyFile } {
  const explicit = cmd.values.get('config-file')?.[0];
  const candidates = explicit !== undefined ? [explicit] : configSearchPath(e);
  for (const file of candidates) {
    let text: string;
    try {
      text = e.readFile(file);
    } catch (err) {
      if (explicit === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new UsageError(`Error reading configuration file "${file}": ${(err as Error).message}`);
    }
    try {
      return { file, kf: KeyFile.parse(text) };
    } catch (err) {
      throw new UsageError(`Error reading configuration file "${file}": ${(err as Error).message}`);
    }
  }
  return { kf: new KeyFile() };
}

const GROUP = 'infinoted';

/** Resolves command line + configuration file into validated options (command line wins). */
export function resolveOptions(cmd: CommandLine, e: Environment = processEnvironment()): TandemdOptions {
  const { file, kf } = loadConfig(cmd, e);
  for (const spec of OPTION_TABLE) {
    if (spec.configKey && spec.unsupported && kf.has(GROUP, spec.configKey)) {
      throw new UsageError(`${file}: ${spec.configKey}: ${spec.unsupported}`);
    }
  }
  // Lay the command line over the file (infinoted_options_args_to_keyfile_foreach_func).
  for (const spec of OPTION_TABLE) {
    const v = cmd.values.get(spec.long);
    if (!spec.configKey || v === undefined) continue;
    kf.setRaw(GROUP, spec.configKey, spec.kind === 'list' ? v.map((x) => escapeValue(x, true)).join(';') : escapeValue(v[0]!));
  }
  for (const p of cmd.values.get('plugin-parameter') ?? []) {
    const m = /^([^:]+):([^:]+):(.*)$/s.exec(p);
    if (!m) throw new UsageError(`--plugin-parameter "${p}" is not of the form PLUGIN:KEY:VALUE`);
    kf.setRaw(m[1]!, m[2]!, escapeValue(m[3]!));
  }

  const get = (k: string): string | undefined => {
    try {
      const v = kf.getString(GROUP, k);
      return v === '' ? undefined : v;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  let port = 6523;
  const portText = get('port');
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText.trim()) || Number(portText) > 65535) {
      throw new UsageError(`Invalid port number "${portText}": must be between 0 and 65535`);
    }
    port = Number(portText);
  }
  const wsPortText = get('ws-port');
  if (wsPortText !== undefined && (!/^\d+$/.test(wsPortText.trim()) || Number(wsPortText) > 65535)) {
    throw new UsageError(`Invalid WebSocket port number "${wsPortText}": must be between 0 and 65535`);
  }
  // GLib key-file booleans (g_key_file_get_boolean): true/false or 1/0.
  const webEditorText = cmd.values.has('no-web-editor') ? 'false' : get('web-editor')?.trim();
  if (webEditorText !== undefined && !['true', 'false', '1', '0'].includes(webEditorText)) {
    throw new UsageError(`Invalid web-editor "${webEditorText}": must be "true" or "false"`);
  }
  const policy = get('security-policy') ?? 'require-tls';
  if (policy !== 'no-tls' && policy !== 'allow-tls' && policy !== 'require-tls') {
    throw new UsageError(`Invalid security policy "${policy}": must be "no-tls", "allow-tls" or "require-tls"`);
  }
  const listenAddress = get('listen-address');
  if (listenAddress !== undefined && isIP(listenAddress) === 0) {
    throw new UsageError(`"${listenAddress}" is not a valid IP address`);
  }
  let plugins: string[];
  try {
    plugins = kf.getStringList(GROUP, 'plugins') ?? ['note-text'];
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const journalText = get('journal-sync')?.trim();
  let journal: TandemdOptions['journal'] = { fsyncMs: 1000 };
  if (journalText === 'off') journal = false;
  else if (journalText !== undefined) {
    if (!/^\d+$/.test(journalText) || Number(journalText) > 3_600_000) {
      throw new UsageError(`Invalid journal-sync "${journalText}": milliseconds from 0 to 3600000, or "off"`);
    }
    journal = { fsyncMs: Number(journalText) };
  }
  const expand = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : p === '~' ? e.home : p.startsWith('~/') ? join(e.home, p.slice(2)) : p;
  const opts: TandemdOptions = {
    port,
    securityPolicy: policy,
    createKey: cmd.values.has('create-key'),
    createCertificate: cmd.values.has('create-certificate'),
    rootDirectory: expand(get('root-directory')) ?? join(e.home, '.infinote'),
    plugins: plugins.filter((p) => p !== ''),
    limits: resolveLimits(get, (message) => new UsageError(message)),
    journal,
    webEditor: webEditorText === undefined || webEditorText === 'true' || webEditorText === '1',
    config: kf,
  };
  const optional: [keyof TandemdOptions, string][] = [
    ['keyFile', 'key-file'], ['certificateFile', 'certificate-file'], ['certificateChain', 'certificate-chain'],
    ['logFile', 'log-file'],
  ];
  for (const [prop, key] of optional) {
    const v = expand(get(key));
    if (v !== undefined) (opts as unknown as Record<string, unknown>)[prop] = v;
  }
  const password = kf.getString(GROUP, 'password');
  if (password !== undefined && password !== '') opts.password = password;
  if (listenAddress !== undefined) opts.listenAddress = listenAddress;
  if (wsPortText !== undefined) opts.wsPort = Number(wsPortText);
  if (file !== undefined) opts.configFile = file;
  if (opts.createKey && !opts.createCertificate) {
    throw new UsageError('Creating a new private key also requires creating a new certificate signed with it (add --create-certificate)');
  }
  return opts;
}

export { KeyFile, KeyFileError };
