// Drives the real Gobby 0.6 (Debian `gobby`) under Xvfb with xdotool, so that interop tests can
// check that a Gobby user works against tandemd. Gobby reads its settings through GSettings; with
// the keyfile backend and a private HOME each run starts from a known configuration.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const tools = ['/usr/bin/gobby-0.5', '/usr/bin/Xvfb', '/usr/bin/xdotool', '/usr/bin/import'];

/** Names the missing Debian tools, or returns null when Gobby can be driven here. */
export function missingGobbyTools(): string | null {
  const missing = tools.filter((t) => !existsSync(t));
  return missing.length ? `missing ${missing.join(', ')} (apt-get install gobby xvfb xdotool imagemagick)` : null;
}

export interface Display {
  readonly name: string;
  stop(): Promise<void>;
}

/** Starts Xvfb on the first free display number from 90 on. */
export async function startXvfb(): Promise<Display> {
  for (let n = 90; n < 140; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn('/usr/bin/Xvfb', [`:${n}`, '-screen', '0', '1024x700x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 50 && proc.exitCode === null; i++) {
      if (existsSync(`/tmp/.X11-unix/X${n}`)) {
        return { name: `:${n}`, stop: () => stopProcess(proc) };
      }
      await sleep(100);
    }
    await stopProcess(proc);
  }
  throw new Error('could not start Xvfb on any display from :90 to :139');
}

export interface Gobby {
  /** Types text into the focused document through X key events. */
  type(text: string): Promise<void>;
  /** Sends an xdotool key sequence such as "ctrl+End" or "Return". */
  key(keys: string): Promise<void>;
  /** Clicks at a position of the screen. */
  click(x: number, y: number): Promise<void>;
  /** Titles of Gobby's visible windows. */
  windows(): string[];
  /** Saves a PNG of the whole screen. */
  screenshot(path: string): void;
  stop(): Promise<void>;
}

/**
 * Starts Gobby opening `uri` (infinote://HOST:PORT/PATH), as user `name`, with the first-run
 * dialog already done, and waits until a window titled after the document shows up.
 */
export async function startGobby(display: Display, uri: string, name: string, docTitle: string): Promise<Gobby> {
  const home = mkdtempSync(join(tmpdir(), 'tandem-gobby-'));
  const settingsDir = join(home, '.config', 'glib-2.0', 'settings');
  mkdirSync(settingsDir, { recursive: true });
  writeFileSync(
    join(settingsDir, 'keyfile'),
    [
      '[de/0x539/gobby/state/initial]',
      'run=true',
      '[de/0x539/gobby/preferences/user]',
      `name='${name}'`,
      'hue=0.5',
      // Gobby would otherwise host its local documents on port 6523 itself.
      'allow-remote-access=false',
      `host-directory='${join(home, 'local-documents')}'`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, HOME: home, DISPLAY: display.name, GSETTINGS_BACKEND: 'keyfile', NO_AT_BRIDGE: '1' };
  const proc = spawn('/usr/bin/gobby-0.5', ['-n', uri], { env, stdio: 'ignore' });
  const xdo = (...args: string[]) => {
    const r = spawnSync('/usr/bin/xdotool', args, { env, encoding: 'utf8', timeout: 10_000 });
    return r.stdout ?? '';
  };
  const windows = () =>
    xdo('search', '--onlyvisible', '--class', 'gobby')
      .split('\n')
      .filter(Boolean)
      .map((id) => xdo('getwindowname', id).trim());

  const deadline = Date.now() + 20_000;
  while (!windows().some((t) => t.startsWith(`${docTitle} - Gobby`) || t.startsWith(`*${docTitle} - Gobby`))) {
    if (proc.exitCode !== null) throw new Error(`gobby exited with ${proc.exitCode} before opening ${uri}`);
    if (Date.now() > deadline) throw new Error(`gobby did not open ${uri} within 20 s; windows: ${windows().join(', ')}`);
    await sleep(200);
  }
  return {
    async type(text) {
      xdo('type', '--delay', '40', text);
      await sleep(300);
    },
    async key(keys) {
      xdo('key', keys);
      await sleep(150);
    },
    async click(x, y) {
      xdo('mousemove', String(x), String(y), 'click', '1');
      await sleep(300);
    },
    windows,
    screenshot(path) {
      spawnSync('/usr/bin/import', ['-window', 'root', path], { env, timeout: 10_000 });
    },
    async stop() {
      await stopProcess(proc);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
