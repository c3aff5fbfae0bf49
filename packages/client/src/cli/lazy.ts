// The index's runCli: the CLI needs Node (files, the process's streams), so it is loaded on the
// first call rather than with the index, which must also load in a browser.
import type { CliOptions } from './main.js';

/** Runs the `tandem` command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const cli = await import('./main.js');
  return cli.runCli(argv, options);
}
