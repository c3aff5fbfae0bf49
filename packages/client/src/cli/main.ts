// `tandem` as a function: parses argv, connects, runs one command and returns the exit status
// (0 success, 2 usage error, 1 anything else, always with one line "tandem: ..." on stderr). It
// never throws and never touches the process, so it runs in-process as well as from bin/.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from '../client.js';
import { ClientError } from '../errors.js';
import { USAGE, UsageError, parseArgs, type ParsedArgs } from './args.js';
import { listens, runCommand, type OutputStream } from './commands.js';
import type { ProgressStream } from './progress.js';

export interface CliOptions {
  /** Environment for the defaults (TANDEM_PASSWORD, TANDEM_USER, ...); default process.env. */
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream;
  stdout?: OutputStream;
  /** Errors and the progress bar (drawn only if `isTTY`). */
  stderr?: ProgressStream;
  /** Resolves when the user interrupts: watch, sync and chat end cleanly, other commands give up. */
  interrupted?: Promise<void>;
  /** Called once watch, sync or chat (listening) is set up and will report what happens. */
  onListening?: () => void;
  /** How long an upload runs before its progress bar appears (ms, default 250). */
  progressDelayMs?: number;
}

/** Runs the `tandem` command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  try {
    return await run(argv, options, stdout, stderr);
  } catch (err) {
    const status = err instanceof UsageError ? 2 : 1;
    const message = err instanceof Error ? err.message : String(err);
    stderr.write(`tandem: ${message.split('\n')[0]}\n`);
    return status;
  }
}

async function run(argv: readonly string[], options: CliOptions, stdout: OutputStream, stderr: ProgressStream): Promise<number> {
  const parsed: ParsedArgs = parseArgs(argv, options.env ?? process.env);
  const { options: global, command } = parsed;
  if (command.name === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  if (command.name === 'version') {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    stdout.write(`tandem ${pkg.version}\n`);
    return 0;
  }
  let password = global.password;
  if (global.passwordFile !== undefined) {
    try {
      password = (await readFile(global.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new ClientError('AUTH_FAILED', `cannot read the password file ${global.passwordFile}: ${(err as Error).message}`);
    }
  }
  const interrupted = options.interrupted ?? new Promise<void>(() => undefined);
  // Commands that do not listen give up on an interrupt instead of ignoring it.
  const givenUp = listens(command)
    ? new Promise<never>(() => undefined)
    : interrupted.then(() => Promise.reject(new ClientError('CLOSED', 'interrupted')));
  givenUp.catch(() => undefined);
  const connecting = connect({
    host: global.host,
    port: global.port,
    ...(global.url !== undefined ? { url: global.url } : {}),
    tls: global.tls,
    insecure: global.insecure,
    user: global.user,
    password,
    timeoutMs: global.timeout * 1000,
  });
  let client;
  try {
    client = await Promise.race([connecting, givenUp]);
  } catch (err) {
    void connecting.then((c) => c.close(), () => undefined);
    throw err;
  }
  try {
    const io = {
      stdout,
      stderr,
      stdin: options.stdin ?? process.stdin,
      interrupted,
      listening: options.onListening,
      progressDelayMs: options.progressDelayMs,
    };
    return await Promise.race([runCommand(client, command, global, io), givenUp]);
  } finally {
    await client.close();
  }
}
