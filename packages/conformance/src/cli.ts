#!/usr/bin/env node
/**
 * npm run conformance -- [--json] [--seed N] [--permutations N] [PATH...]
 * Runs every conformance file under the given files/folders (default ../shared/conformance
 * relative to the repository root) and prints PASS/FAIL per file and "N passed, N failed".
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runFile, type FileResult, type Runs } from './runner.js';

/** The libinfinity oracle (../shared/tools/oracle), if this machine has it. */
function oracle(root: string): ((file: string, order: readonly number[]) => Runs | null) | undefined {
  const script = resolve(root, '../shared/tools/oracle/oracle.py');
  if (!existsSync(script) || !existsSync('/usr/bin/python3')) return undefined;
  return (file, order) => {
    try {
      const out = execFileSync('/usr/bin/python3', [script, file, '--order', order.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
      return (JSON.parse(out) as { segments: Runs }).segments;
    } catch {
      return null;
    }
  };
}

function usage(): never {
  process.stderr.write('usage: conformance [--json] [--seed N] [--permutations N] [PATH...]\n');
  process.exit(64);
}

/** Conformance files below `path`: *.xml, recursively, in name order. */
function collect(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const p = join(path, name);
      if (statSync(p).isDirectory() || name.endsWith('.xml')) collect(p, out);
    }
  } else {
    out.push(path);
  }
}

function main(argv: string[]): number {
  let json = false;
  let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  let permutations = 100;
  const paths: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--seed') seed = Number(argv[++i] ?? usage()) >>> 0;
    else if (a === '--permutations') permutations = Number(argv[++i] ?? usage());
    else if (a.startsWith('--')) usage();
    else paths.push(a);
  }
  if (!Number.isInteger(permutations) || permutations < 0) usage();
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  if (paths.length === 0) paths.push(resolve(root, '../shared/conformance'));
  const libinfinity = oracle(root);
  const files: string[] = [];
  for (const p of paths) {
    try {
      collect(p, files);
    } catch (e) {
      process.stderr.write(`cannot read ${p}: ${(e as Error).message}\n`);
      return 66;
    }
  }
  if (!json) process.stdout.write(`seed ${seed}\n`);
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const r: FileResult = runFile(file, libinfinity ? { seed, permutations, libinfinity } : { seed, permutations });
    if (r.ok) passed++;
    else failed++;
    if (json) {
      process.stdout.write(JSON.stringify({ file: r.file, ok: r.ok, text: r.text ?? null, segments: r.segments ?? null, error: r.error ?? null, ...(r.note ? { note: r.note } : {}) }) + '\n');
    } else if (r.ok) {
      process.stdout.write(`PASS ${file}${r.note ? ` (${r.note})` : ''}\n`);
    } else {
      process.stdout.write(`FAIL ${file}: ${r.error}\n`);
    }
  }
  if (json) process.stderr.write(`seed ${seed}\n${passed} passed, ${failed} failed\n`);
  else process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
