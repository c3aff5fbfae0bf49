#!/usr/bin/env node
// Committed entry point for `npx tandem`: npm links workspace bins at install time, before the
// TypeScript build exists, so the bin must not point into dist/ directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/tandem.js', import.meta.url));
if (!existsSync(main)) {
  console.error('tandem is not built yet: run `npx tsc -b` in the repository first');
  process.exit(1);
}
await import(main);
