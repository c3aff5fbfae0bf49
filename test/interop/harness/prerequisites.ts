// The interop suite needs the real thing (Debian packages infinoted, gir1.2-infinity-0.7,
// python3-gi, openssl; .ci/run installs them). Tests call requireRealLibinfinity() in before()
// so that a machine without them FAILS with this message instead of skipping silently.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const INFINOTED = process.env.TANDEM_INFINOTED ?? '/usr/bin/infinoted';
export const PYTHON = process.env.TANDEM_PYTHON ?? '/usr/bin/python3';
export const OPENSSL = process.env.TANDEM_OPENSSL ?? 'openssl';

let cached: string | null | undefined;

/** null when infinoted, openssl and libinfinity's Python bindings are usable, else what is missing. */
export function missingLibinfinity(): string | null {
  if (cached !== undefined) return cached;
  const missing: string[] = [];
  if (!existsSync(INFINOTED)) missing.push(`${INFINOTED} (apt-get install infinoted)`);
  if (spawnSync(OPENSSL, ['version']).status !== 0) missing.push('openssl (apt-get install openssl)');
  const py = spawnSync(PYTHON, [
    '-c',
    "import gi; gi.require_version('Infinity','0.7'); gi.require_version('Infinityc','0.7');" +
      " gi.require_version('InfText','0.7'); gi.require_version('InfGtk','0.7');" +
      ' from gi.repository import Infinity, Infinityc, InfText, InfGtk',
  ], { encoding: 'utf8' });
  if (py.status !== 0) {
    const why = (py.error?.message ?? py.stderr ?? '').trim().split('\n').pop();
    missing.push(`libinfinity 0.7 Python bindings via ${PYTHON} (apt-get install python3-gi gir1.2-infinity-0.7): ${why}`);
  }
  cached = missing.length ? `missing: ${missing.join('; ')}` : null;
  return cached;
}

export function hasRealLibinfinity(): boolean {
  return missingLibinfinity() === null;
}

/** Throws a clear error naming the missing packages (use in before()). */
export function requireRealLibinfinity(): void {
  const missing = missingLibinfinity();
  if (missing) throw new Error(`interop tests need the real infinoted and libinfinity 0.7: ${missing}`);
}
