/**
 * PluginHost: calls every loaded plugin's hooks in load order, isolates their failures, and
 * swaps the plugin set on a configuration reload. It remembers the open connections and loaded
 * sessions so that a plugin loaded later sees them as added, and one unloaded sees them removed,
 * as infinoted_plugin_manager does when it (un)loads a plugin while the server runs.
 */
import type { WireUser } from '@tandem/protocol';
import type {
  CheckRequestEvent, ConnectionInfo, LogLevel, Plugin, PluginContext, PluginHooks, RequestEvent, SessionErrorEvent,
  SessionInfo, TrafficDirection,
} from './types.js';

type Notification = Exclude<keyof PluginHooks, 'checkRequest'>;

export class PluginHost {
  private plugins: Plugin[] = [];
  private readonly connections = new Set<ConnectionInfo>();
  private readonly sessions = new Set<SessionInfo>();

  constructor(private readonly ctx: PluginContext) {}

  /** Whether any loaded plugin implements `hook`. */
  wants(hook: keyof PluginHooks): boolean {
    return this.plugins.some((p) => p[hook] !== undefined);
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  private failed(p: Plugin, what: string, err: unknown): void {
    this.ctx.log('error', `Plugin "${p.name}" failed in ${what}: ${(err as Error)?.stack ?? String(err)}`);
  }

  private call<K extends Notification>(p: Plugin, hook: K, ...args: Parameters<NonNullable<PluginHooks[K]>>): void {
    const fn = p[hook] as ((...a: unknown[]) => void) | undefined;
    if (!fn) return;
    try {
      fn.apply(p, args);
    } catch (err) {
      this.failed(p, hook, err);
    }
  }

  private emit<K extends Notification>(hook: K, ...args: Parameters<NonNullable<PluginHooks[K]>>): void {
    for (const p of this.plugins) this.call(p, hook, ...args);
  }

  /**
   * Replaces the loaded plugins: the old ones see every session and connection removed and are
   * stopped, the new ones are started and see them added. A plugin whose start fails is not
   * loaded (infinoted refuses to start then; on reload it keeps running without it).
   */
  async load(next: readonly Plugin[]): Promise<string[]> {
    const errors: string[] = [];
    const old = this.plugins;
    this.plugins = [];
    for (const p of old) {
      for (const s of this.sessions) this.call(p, 'sessionRemoved', s);
      for (const c of this.connections) this.call(p, 'connectionRemoved', c);
      try {
        await p.stop?.();
      } catch (err) {
        this.failed(p, 'stop', err);
      }
    }
    for (const p of next) {
      try {
        await p.start?.(this.ctx);
      } catch (err) {
        errors.push(`Plugin "${p.name}" could not be started: ${(err as Error).message}`);
        continue;
      }
      this.plugins.push(p);
      for (const c of this.connections) this.call(p, 'connectionAdded', c);
      for (const s of this.sessions) this.call(p, 'sessionAdded', s);
    }
    return errors;
  }

  /** Removes every session and connection from the plugins and stops them (shutdown). */
  async unload(): Promise<void> {
    for (const s of [...this.sessions]) this.sessionRemoved(s);
    await this.load([]);
  }

  connectionAdded(c: ConnectionInfo): void {
    this.connections.add(c);
    this.emit('connectionAdded', c);
  }

  connectionRemoved(c: ConnectionInfo): void {
    if (!this.connections.delete(c)) return;
    this.emit('connectionRemoved', c);
  }

  connectionError(c: ConnectionInfo, error: string): void {
    this.emit('connectionError', c, error);
  }

  traffic(c: ConnectionInfo, direction: TrafficDirection, xml: string): void {
    this.emit('traffic', c, direction, xml);
  }

  sessionAdded(s: SessionInfo): void {
    this.sessions.add(s);
    this.emit('sessionAdded', s);
  }

  sessionRemoved(s: SessionInfo): void {
    if (!this.sessions.delete(s)) return;
    this.emit('sessionRemoved', s);
  }

  userAdded(s: SessionInfo, user: WireUser): void {
    this.emit('userAdded', s, user);
  }

  usersChanged(s: SessionInfo): void {
    this.emit('usersChanged', s);
  }

  /** The first plugin that objects decides; its reason is returned. */
  checkRequest(e: CheckRequestEvent): string | undefined {
    for (const p of this.plugins) {
      if (!p.checkRequest) continue;
      try {
        const reason = p.checkRequest(e);
        if (reason !== undefined) return reason;
      } catch (err) {
        this.failed(p, 'checkRequest', err);
      }
    }
    return undefined;
  }

  requestExecuted(e: RequestEvent): void {
    this.emit('requestExecuted', e);
  }

  sessionError(e: SessionErrorEvent): void {
    this.emit('sessionError', e);
  }

  sessionSaved(s: SessionInfo): void {
    this.emit('sessionSaved', s);
  }

  nodeRemoved(path: string, subdirectory: boolean): void {
    this.emit('nodeRemoved', path, subdirectory);
  }

  log(level: LogLevel, line: string): void {
    this.ctx.log(level, line);
  }
}
