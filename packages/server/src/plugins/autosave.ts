/**
 * The autosave plugin (infinoted-plugin-autosave.c): a session is saved `interval` seconds after
 * its buffer became modified; after a successful save the `hook` program runs with the root
 * directory and the document's path. A failed save is retried after another interval.
 */
import { runHook } from './hook-program.js';
import type { Plugin, PluginContext, RequestEvent, SessionInfo } from './types.js';

export interface AutosaveOptions {
  intervalMs: number;
  hook?: string;
  /** First argument of the hook (the storage root, as infinoted passes it). */
  rootDirectory: string;
}

export class AutosavePlugin implements Plugin {
  readonly name = 'autosave';
  private readonly timers = new Map<SessionInfo, NodeJS.Timeout>();
  private ctx: PluginContext | undefined;

  constructor(private readonly o: AutosaveOptions) {}

  start(ctx: PluginContext): void {
    this.ctx = ctx;
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(s: SessionInfo): void {
    if (this.timers.has(s)) return;
    const t = setTimeout(() => {
      this.timers.delete(s);
      void this.save(s);
    }, this.o.intervalMs);
    t.unref();
    this.timers.set(s, t);
  }

  private cancel(s: SessionInfo): void {
    const t = this.timers.get(s);
    if (t) clearTimeout(t);
    this.timers.delete(s);
  }

  private async save(s: SessionInfo): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    try {
      await ctx.saveSession(s.id);
    } catch (err) {
      ctx.log('warning', `Failed to auto-save session "${s.path}": ${(err as Error).message}\n\nWill retry in ${Math.round(this.o.intervalMs / 1000)} seconds.`);
      this.schedule(s);
      return;
    }
    const hook = this.o.hook;
    if (hook !== undefined) runHook(hook, [this.o.rootDirectory, s.path], (m) => ctx.log('warning', `Could not execute autosave hook: "${m}"`));
  }

  sessionAdded(s: SessionInfo): void {
    if (s.modified) this.schedule(s);
  }

  /** The directory saved it anyway; it is only removed after being saved (infinoted's comment). */
  sessionRemoved(s: SessionInfo): void {
    this.cancel(s);
  }

  requestExecuted(e: RequestEvent): void {
    if (e.session.modified) this.schedule(e.session);
  }

  /** A save by other means (save-session, idle unload) clears the modified flag: nothing to do. */
  sessionSaved(s: SessionInfo): void {
    if (!s.modified) this.cancel(s);
  }
}
