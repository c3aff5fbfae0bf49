/**
 * Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol, with the `ws`
 * package and nothing else: one browser per test, its own fresh profile, killed with its whole
 * process group at the end. requireChromium() fails a suite clearly when it is not installed,
 * like requireRealLibinfinity().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { track } from './harness/index.js';

export const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';

/** Throws a clear error naming the missing package (use in before()). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need headless Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run installs it), or set TANDEM_CHROMIUM`);
  }
}

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
  method: string;
}

interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

/** One DevTools WebSocket to the browser; page commands go through a flattened session. */
class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: CdpEvent) => void>();
  private closedWith: Error | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        const event: CdpEvent = { method: msg.method, params: msg.params ?? {}, ...(msg.sessionId ? { sessionId: msg.sessionId } : {}) };
        for (const l of [...this.listeners]) l(event);
      }
    });
    socket.on('close', () => {
      this.closedWith = new Error('the DevTools connection closed');
      for (const p of this.pending.values()) p.reject(this.closedWith);
      this.pending.clear();
    });
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => resolve(new Cdp(socket)));
      socket.once('error', reject);
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 20000): Promise<Record<string, unknown>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from Chromium within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  onEvent(listener: (e: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.terminate();
  }
}

export interface BrowserPage {
  /** Navigates and resolves once the load event fired. */
  goto(url: string): Promise<void>;
  /** Runtime.evaluate in the page (promises awaited); the value, or the page's exception as an error. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; fails after `ms` with `what` and the page's console. */
  waitFor(expression: string, what: string, ms?: number): Promise<void>;
  /** Input.insertText: the text arrives as typed (beforeinput/input events) at the focused element's caret. */
  insertText(text: string): Promise<void>;
  /** A key press (keyDown + keyUp) of a named key, e.g. "Backspace". */
  press(key: 'Backspace' | 'Enter'): Promise<void>;
  /** PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  /** Console messages and uncaught exceptions of the page so far. */
  readonly console: readonly string[];
}

export interface Browser {
  newPage(options?: { width?: number; height?: number }): Promise<BrowserPage>;
  /** Closes the browser and kills whatever is left of its process group; removes the profile. */
  close(): Promise<void>;
}

const KEYS = {
  Backspace: { key: 'Backspace', code: 'Backspace', windowsVirtualKeyCode: 8 },
  Enter: { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, text: '\r' },
} as const;

export interface ChromiumOptions {
  /** PEM certificates to trust despite any error (self-signed, name): by their public key, nothing else. */
  trustCertificates?: string[];
}

/** The SPKI hash Chromium's --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the public key. */
function spkiHash(pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** Starts headless Chromium with a fresh profile and connects to its DevTools endpoint. */
export async function startChromium(options: ChromiumOptions = {}): Promise<Browser> {
  requireChromium();
  const trust = (options.trustCertificates ?? []).map(spkiHash);
  const profile = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
  const child: ChildProcess = spawn(CHROMIUM, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--no-default-browser-check', '--mute-audio',
    `--user-data-dir=${profile}`, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
    ...(trust.length ? [`--ignore-certificate-errors-spki-list=${trust.join(',')}`] : []),
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  track(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 100000) stderr += s;
  });
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = `chromium exited (code ${code}, signal ${sig})`;
  });
  const killGroup = (): void => {
    // The renderer, GPU and zygote processes are children in the group we made with detached.
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);

  const cleanup = async (): Promise<void> => {
    process.off('exit', killGroup);
    killGroup();
    if (!exited) await new Promise<void>((r) => child.once('exit', () => r()));
    rmSync(profile, { recursive: true, force: true });
  };

  // Chromium writes "PORT\n/devtools/browser/ID" to DevToolsActivePort once it listens.
  const portFile = join(profile, 'DevToolsActivePort');
  const deadline = Date.now() + 30000;
  let endpoint: string | undefined;
  while (!endpoint) {
    if (exited) {
      await cleanup();
      throw new Error(`${exited} before it listened for DevTools:\n${stderr.slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`chromium did not open its DevTools port within 30 s:\n${stderr.slice(-3000)}`);
    }
    if (existsSync(portFile)) {
      const [port, path] = readFileSync(portFile, 'utf8').split('\n');
      if (port && path) endpoint = `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    }
    if (!endpoint) await new Promise((r) => setTimeout(r, 50));
  }
  let cdp: Cdp;
  try {
    cdp = await Cdp.open(endpoint);
  } catch (err) {
    await cleanup();
    throw err;
  }

  return {
    async newPage(options = {}) {
      const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
      const send = (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> => cdp.send(method, params, sessionId);
      const consoleLines: string[] = [];
      cdp.onEvent((e) => {
        if (e.sessionId !== sessionId) return;
        if (e.method === 'Runtime.consoleAPICalled') {
          const args = (e.params.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description);
          consoleLines.push(`console.${String(e.params.type)}: ${args.join(' ')}`);
        } else if (e.method === 'Runtime.exceptionThrown') {
          const d = e.params.exceptionDetails as { text: string; exception?: { description?: string } };
          consoleLines.push(`exception: ${d.exception?.description ?? d.text}`);
        } else if (e.method === 'Log.entryAdded') {
          const entry = e.params.entry as { level: string; text: string; url?: string };
          consoleLines.push(`log.${entry.level}: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
        }
      });
      await send('Page.enable');
      await send('Runtime.enable');
      await send('Log.enable');
      await send('Emulation.setDeviceMetricsOverride', { width: options.width ?? 1000, height: options.height ?? 600, deviceScaleFactor: 1, mobile: false });
      const evaluate = async <T>(expression: string): Promise<T> => {
        const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as {
          result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } };
        };
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value as T;
      };
      const page: BrowserPage = {
        console: consoleLines,
        async goto(url) {
          const loaded = new Promise<void>((resolve) => {
            const off = cdp.onEvent((e) => {
              if (e.sessionId === sessionId && e.method === 'Page.loadEventFired') {
                off();
                resolve();
              }
            });
          });
          const r = await send('Page.navigate', { url }) as { errorText?: string };
          if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
          await loaded;
        },
        evaluate,
        async waitFor(expression, what, ms = 20000) {
          const until = Date.now() + ms;
          for (;;) {
            if (await evaluate<boolean>(`Boolean(${expression})`)) return;
            if (Date.now() > until) {
              throw new Error(`the page did not reach "${what}" within ${ms / 1000} s; its console:\n  ${consoleLines.join('\n  ') || '(empty)'}`);
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        async insertText(text) {
          await send('Input.insertText', { text });
        },
        async press(key) {
          const k = KEYS[key];
          await send('Input.dispatchKeyEvent', { type: 'keyDown', ...k });
          await send('Input.dispatchKeyEvent', { type: 'keyUp', key: k.key, code: k.code, windowsVirtualKeyCode: k.windowsVirtualKeyCode });
        },
        async screenshot() {
          const { data } = await send('Page.captureScreenshot', { format: 'png' }) as { data: string };
          return Buffer.from(data, 'base64');
        },
      };
      return page;
    },
    async close() {
      // Browser.close lets Chromium end cleanly; the group kill after it catches anything left.
      await Promise.race([cdp.send('Browser.close', {}, undefined, 3000).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      cdp.close();
      await Promise.race([new Promise<void>((r) => (exited ? r() : child.once('exit', () => r()))), new Promise((r) => setTimeout(r, 3000))]);
      await cleanup();
    },
  };
}
