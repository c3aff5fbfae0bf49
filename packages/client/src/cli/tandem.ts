#!/usr/bin/env node
// `tandem`: the command-line client. Exit status 0 on success, 2 on a usage error, 1 on any
// other failure, always with one line on stderr saying why.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from '../client.js';
import { ClientError } from '../errors.js';
import { USAGE, UsageError, parseArgs, type ParsedArgs } from './args.js';
import { runCommand } from './commands.js';

async function main(argv: string[]): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tandem: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { options, command } = parsed;
  if (command.name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command.name === 'version') {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    process.stdout.write(`tandem ${pkg.version}\n`);
    return 0;
  }
  let password = options.password;
  if (options.passwordFile !== undefined) {
    password = (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '');
  }
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const client = await connect({
    host: options.host,
    port: options.port,
    ...(options.url !== undefined ? { url: options.url } : {}),
    tls: options.tls,
    insecure: options.insecure,
    user: options.user,
    password,
    timeoutMs: options.timeout * 1000,
  });
  try {
    return await runCommand(client, command, options, {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      interrupted,
    });
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
    // Whatever is still pending (a stuck socket) must not keep a finished command alive.
    setTimeout(() => process.exit(status), 200).unref();
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const detail = err instanceof ClientError || (err as { code?: string })?.code === 'ENOENT' ? '' : '';
    process.stderr.write(`tandem: ${message.split('\n')[0]}${detail}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  },
);
