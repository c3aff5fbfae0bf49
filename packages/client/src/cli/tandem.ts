#!/usr/bin/env node
// `tandem`, the process: runCli with the process's streams, SIGINT/SIGTERM as the interrupt
// (a second one ends the process at once), and the exit status.
import { runCli } from './main.js';

const interrupted = new Promise<void>((resolve) => {
  const onSignal = (): void => {
    resolve();
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
});

const status = await runCli(process.argv.slice(2), { interrupted });
process.exitCode = status;
// Whatever is still pending (a stuck socket) must not keep a finished command alive.
setTimeout(() => process.exit(status), 200).unref();
