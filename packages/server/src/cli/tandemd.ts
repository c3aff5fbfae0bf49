#!/usr/bin/env node
/**
 * tandemd: infinoted's command line (protocol.md §9). With no flags it serves ~/.infinote on port
 * 6523 with TLS, creating its key and certificate on first start.
 */
import { createRequire } from 'node:module';
import { UsageError, helpText, parseCommandLine, resolveOptions } from '../config/options.js';
import { startDaemon } from './run.js';

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    const cmd = parseCommandLine(argv);
    if (cmd.help) {
      console.log(helpText());
      return 0;
    }
    if (cmd.version) {
      console.log(`tandemd ${version} (infinoted 0.7 compatible)`);
      return 0;
    }
    options = resolveOptions(cmd);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`tandemd: ${err.message}`);
      return 2;
    }
    throw err;
  }
  // A stop signal that arrives while the daemon starts (it logs "Server running" before it has
  // finished) waits for the start instead of killing the process unsaved.
  let early: string | undefined;
  const onEarly = (sig: string) => (): void => void (early ??= sig);
  const earlyHandlers = (['SIGINT', 'SIGTERM', 'SIGQUIT'] as const).map((sig) => [sig, onEarly(sig)] as const);
  for (const [sig, h] of earlyHandlers) process.on(sig, h);
  let daemon;
  try {
    daemon = await startDaemon(options);
  } catch (err) {
    console.error(`tandemd: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const [sig, h] of earlyHandlers) process.off(sig, h);
  }
  // Every loaded session is written before exit (infinoted saves on SIGINT/SIGTERM/SIGQUIT); if
  // one could not be, the exit status says so (1), so that a service manager or script notices.
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      console.log(`Received ${sig}, saving documents and shutting down`);
      daemon.stop().then(() => resolve(0), (err: Error) => {
        console.error(`tandemd: error while shutting down: ${err.message}`);
        resolve(1);
      });
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) process.on(sig, () => stop(sig));
    if (early !== undefined) stop(early);
    // SIGHUP re-reads the configuration file and the same command line, as infinoted does.
    process.on('SIGHUP', () => {
      let next;
      try {
        next = resolveOptions(parseCommandLine(argv));
      } catch (err) {
        console.error(`tandemd: configuration not reloaded: ${(err as Error).message}`);
        return;
      }
      daemon.reload(next).then((problems) => {
        for (const p of problems) console.log(`Reload: ${p}`);
        console.log('Configuration reloaded');
      }, (err: Error) => console.error(`tandemd: reload failed: ${err.message}`));
    });
  });
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  console.error(`tandemd: ${err.stack ?? err.message}`);
  process.exit(1);
});
