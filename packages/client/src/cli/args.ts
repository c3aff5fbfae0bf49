// Command-line parsing for `tandem`: global options may appear before or after the command;
// negative numbers ("-1") and a lone "-" are arguments, not options; "--" ends options.

/** A usage error: printed as one line and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface GlobalOptions {
  host: string;
  port: number;
  /** ws:// or wss:// URL: connect over a WebSocket instead of TCP (tandemd --ws-port). */
  url: string | undefined;
  /** true: require TLS; false: never use TLS; undefined: use STARTTLS when the server offers it. */
  tls: boolean | undefined;
  insecure: boolean;
  user: string;
  password: string | undefined;
  passwordFile: string | undefined;
  /** Seconds to wait for any one network step. */
  timeout: number;
}

export type Command =
  | { name: 'ls'; recursive: boolean; path: string }
  | { name: 'mkdir'; parents: boolean; path: string }
  | { name: 'create'; path: string }
  | { name: 'rm'; path: string }
  | { name: 'cat'; path: string }
  | { name: 'put'; path: string; file: string }
  | { name: 'insert'; path: string; pos: number; text: string }
  | { name: 'delete'; path: string; pos: number; len: number }
  | { name: 'undo'; path: string }
  | { name: 'users'; path: string }
  | { name: 'watch'; path: string; forSeconds: number | undefined }
  | { name: 'sync'; path: string; file: string; forSeconds: number | undefined }
  | { name: 'chat'; message: string | undefined; forSeconds: number | undefined }
  | { name: 'help' }
  | { name: 'version' };

export interface ParsedArgs {
  options: GlobalOptions;
  command: Command;
}

export const USAGE = `usage: tandem [--host H] [--port P | --url ws://H:P] [--tls|--no-tls] [--insecure]
              [--user NAME] [--password PW | --password-file FILE] [--timeout S] COMMAND

commands:
  ls [-R] [PATH]            list a directory (full paths, directories end in /)
  mkdir [-p] PATH           create a directory
  create PATH               create an empty text document
  rm PATH                   remove a document or directory
  cat PATH                  print a document's text
  put PATH FILE|-           replace a document's text (created if needed) by a minimal diff
  insert PATH POS TEXT      insert TEXT at character POS (-1 = end)
  delete PATH POS LEN       delete LEN characters at POS
  undo PATH                 undo the last change of --user
  users PATH                list users: ID<TAB>NAME<TAB>STATUS
  watch PATH [--for S]      print live changes with their authors
  sync PATH FILE [--for S]  keep FILE and the document in step, both ways
  chat [MESSAGE] [--for S]  send MESSAGE to the server chat, or print the chat

environment: TANDEM_PASSWORD (password), TANDEM_USER (user name)
`;

interface OptionSpec {
  key: string;
  value: boolean;
}

const GLOBAL: Record<string, OptionSpec> = {
  '--host': { key: 'host', value: true },
  '-H': { key: 'host', value: true },
  '--port': { key: 'port', value: true },
  '-p': { key: 'port', value: true },
  '--url': { key: 'url', value: true },
  '--tls': { key: 'tls', value: false },
  '--no-tls': { key: 'no-tls', value: false },
  '--insecure': { key: 'insecure', value: false },
  '--user': { key: 'user', value: true },
  '-u': { key: 'user', value: true },
  '--password': { key: 'password', value: true },
  '--password-file': { key: 'password-file', value: true },
  '--timeout': { key: 'timeout', value: true },
  '--help': { key: 'help', value: false },
  '-h': { key: 'help', value: false },
  '--version': { key: 'version', value: false },
};

// Per-command flags. `-p` means --port globally but "parents" after mkdir, as in mkdir(1).
const COMMAND_FLAGS: Record<string, Record<string, OptionSpec>> = {
  ls: { '-R': { key: 'recursive', value: false }, '--recursive': { key: 'recursive', value: false } },
  mkdir: { '-p': { key: 'parents', value: false }, '--parents': { key: 'parents', value: false } },
  watch: { '--for': { key: 'for', value: true } },
  sync: { '--for': { key: 'for', value: true } },
  chat: { '--for': { key: 'for', value: true } },
};

const ARITY: Record<string, [number, number]> = {
  ls: [0, 1], mkdir: [1, 1], create: [1, 1], rm: [1, 1], cat: [1, 1], put: [2, 2],
  insert: [3, 3], delete: [3, 3], undo: [1, 1], users: [1, 1], watch: [1, 1], sync: [2, 2],
  chat: [0, 1], help: [0, 0], version: [0, 0],
};

const isNumber = (s: string): boolean => /^-?\d+(\.\d+)?$/.test(s);

function integer(text: string, what: string, min: number): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${what} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min) throw new UsageError(`${what} must be at least ${min}, got ${n}`);
  return n;
}

function seconds(text: string, what: string): number {
  const n = Number(text);
  if (!isNumber(text) || !(n > 0)) throw new UsageError(`${what} must be a positive number of seconds, got "${text}"`);
  return n;
}

/** Parses argv (without node and the script) and the environment. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  let command: string | undefined;
  let endOfOptions = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (endOfOptions || arg === '-' || isNumber(arg) || !arg.startsWith('-')) {
      if (command === undefined) command = arg;
      else positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      endOfOptions = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = (command !== undefined ? COMMAND_FLAGS[command]?.[flag] : undefined) ?? GLOBAL[flag];
    if (!spec) throw new UsageError(`unknown option ${flag}${command ? ` for ${command}` : ''}`);
    if (spec.value) {
      let value: string;
      if (flag !== arg) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`option ${flag} needs a value`);
      values.set(spec.key, value);
    } else {
      if (flag !== arg) throw new UsageError(`option ${flag} takes no value`);
      values.set(spec.key, true);
    }
  }

  const str = (k: string): string | undefined => {
    const v = values.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  if (values.has('tls') && values.has('no-tls')) throw new UsageError('--tls and --no-tls contradict each other');
  if (values.has('password') && values.has('password-file')) {
    throw new UsageError('--password and --password-file contradict each other');
  }
  const options: GlobalOptions = {
    host: str('host') ?? env.TANDEM_HOST ?? 'localhost',
    port: integer(str('port') ?? env.TANDEM_PORT ?? '6523', 'port', 1),
    url: str('url'),
    tls: values.has('tls') ? true : values.has('no-tls') ? false : undefined,
    insecure: values.has('insecure'),
    user: str('user') ?? env.TANDEM_USER ?? env.USER ?? env.LOGNAME ?? 'tandem',
    password: str('password') ?? (values.has('password-file') ? undefined : env.TANDEM_PASSWORD || undefined),
    passwordFile: str('password-file'),
    timeout: seconds(str('timeout') ?? '30', '--timeout'),
  };
  if (options.url !== undefined && (values.has('host') || values.has('port'))) {
    throw new UsageError('--url names the server already; drop --host/--port');
  }
  if (options.url !== undefined && !/^wss?:\/\//.test(options.url)) {
    throw new UsageError(`--url must start with ws:// or wss://, got "${options.url}"`);
  }
  if (options.port > 65535) throw new UsageError(`port must be at most 65535, got ${options.port}`);
  if (options.user.length === 0) throw new UsageError('the user name must not be empty');

  if (values.has('help')) return { options, command: { name: 'help' } };
  if (values.has('version')) return { options, command: { name: 'version' } };
  if (command === undefined) throw new UsageError('no command given (try "tandem help")');
  const arity = ARITY[command];
  if (!arity) throw new UsageError(`unknown command "${command}" (try "tandem help")`);
  if (positionals.length < arity[0] || positionals.length > arity[1]) {
    const want = arity[0] === arity[1] ? `${arity[0]}` : `${arity[0]} to ${arity[1]}`;
    throw new UsageError(`${command} takes ${want} argument${arity[1] === 1 ? '' : 's'}, got ${positionals.length}`);
  }
  const [a, b, c] = positionals;
  const forSeconds = str('for') !== undefined ? seconds(str('for')!, '--for') : undefined;
  let parsed: Command;
  switch (command) {
    case 'ls': parsed = { name: 'ls', recursive: values.has('recursive'), path: a ?? '/' }; break;
    case 'mkdir': parsed = { name: 'mkdir', parents: values.has('parents'), path: a }; break;
    case 'create': parsed = { name: 'create', path: a }; break;
    case 'rm': parsed = { name: 'rm', path: a }; break;
    case 'cat': parsed = { name: 'cat', path: a }; break;
    case 'put': parsed = { name: 'put', path: a, file: b }; break;
    case 'insert': parsed = { name: 'insert', path: a, pos: integer(b, 'POS', -1), text: c }; break;
    case 'delete': parsed = { name: 'delete', path: a, pos: integer(b, 'POS', 0), len: integer(c, 'LEN', 0) }; break;
    case 'undo': parsed = { name: 'undo', path: a }; break;
    case 'users': parsed = { name: 'users', path: a }; break;
    case 'watch': parsed = { name: 'watch', path: a, forSeconds }; break;
    case 'sync': parsed = { name: 'sync', path: a, file: b, forSeconds }; break;
    case 'chat': parsed = { name: 'chat', message: a, forSeconds }; break;
    case 'help': parsed = { name: 'help' }; break;
    default: parsed = { name: 'version' }; break;
  }
  return { options, command: parsed };
}
