/**
 * The traffic-logging plugin (infinoted-plugin-traffic-logging.c): every connection's group
 * traffic after authentication is appended to `<path>/<remote id with '[' and ']' -> '_'>`, one
 * line per message: "[<%c date> .<microseconds>] " then ">>> " (sent), "<<< " (received) or
 * "!!! " (connected, connection error, log closed).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionInfo, Plugin, PluginContext, TrafficDirection } from './types.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** strftime("%c") in the C locale plus the microseconds, as the plugin writes it. */
export function trafficTimestamp(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const c = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}`;
  return `[${c} .${pad(micros % 1_000_000, 6)}] `;
}

export function trafficFileName(remote: string): string {
  return remote.replace(/[[\]]/g, '_').replace(/\//g, '_');
}

export class TrafficLoggingPlugin implements Plugin {
  readonly name = 'traffic-logging';
  private readonly files = new Map<ConnectionInfo, string>();
  private ctx: PluginContext | undefined;

  constructor(private readonly path: string) {}

  start(ctx: PluginContext): void {
    this.ctx = ctx;
  }

  stop(): void {
    for (const c of [...this.files.keys()]) this.connectionRemoved(c);
  }

  private write(c: ConnectionInfo, line: string): void {
    const file = this.files.get(c);
    if (!file) return;
    const now = Math.round((performance.timeOrigin + performance.now()) * 1000);
    try {
      appendFileSync(file, trafficTimestamp(now) + line + '\n');
    } catch (err) {
      this.files.delete(c);
      this.ctx?.log('warning', `Failed to write to "${file}": ${(err as Error).message}\nTraffic logging for connection "${c.remote}" is disabled.`);
    }
  }

  connectionAdded(c: ConnectionInfo): void {
    try {
      mkdirSync(this.path, { recursive: true });
    } catch (err) {
      this.ctx?.log('warning', `Failed to create directory "${this.path}": ${(err as Error).message}\nTraffic logging for connection "${c.remote}" is disabled.`);
      return;
    }
    this.files.set(c, join(this.path, trafficFileName(c.remote)));
    this.write(c, `!!! ${c.remote} connected`);
  }

  connectionRemoved(c: ConnectionInfo): void {
    this.write(c, '!!! Log closed');
    this.files.delete(c);
  }

  connectionError(c: ConnectionInfo, error: string): void {
    this.write(c, `!!! Connection error: ${error}`);
  }

  traffic(c: ConnectionInfo, direction: TrafficDirection, xml: string): void {
    this.write(c, `${direction === 'sent' ? '>>>' : '<<<'} ${xml}`);
  }
}
