/**
 * The directory-sync plugin (infinoted-plugin-directory-sync.c): every loaded document is mirrored
 * as a plain UTF-8 text file (no authors, no history) under `directory`, at the node's path. It is
 * written when the session is loaded, `interval` seconds after a change, and when the session is
 * unloaded with a change pending; removing a node removes its file or folder. After each write
 * the `hook` program runs with the document's path and the file name.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import { runHook } from './hook-program.js';
import type { Plugin, PluginContext, RequestEvent, SessionInfo } from './types.js';

export interface DirectorySyncOptions {
  directory: string;
  intervalMs: number;
  hook?: string;
}

export class DirectorySyncPlugin implements Plugin {
  readonly name = 'directory-sync';
  private readonly timers = new Map<SessionInfo, NodeJS.Timeout>();
  private ctx: PluginContext | undefined;
  /** File operations run in order, so a write never lands after the removal of its node. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: DirectorySyncOptions) {}

  async start(ctx: PluginContext): Promise<void> {
    this.ctx = ctx;
    await mkdir(this.o.directory, { recursive: true });
  }

  /** Settles once every pending write and removal is done (shutdown, tests). */
  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.chain;
  }

  /** The mirror file of a node path; undefined if the path would leave the directory. */
  fileName(path: string): string | undefined {
    const root = resolve(this.o.directory);
    const f = resolve(join(root, path));
    return f.startsWith(root + sep) ? f : undefined;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job, job);
    return this.chain;
  }

  private schedule(s: SessionInfo): void {
    if (this.timers.has(s)) return;
    const t = setTimeout(() => {
      this.timers.delete(s);
      void this.save(s, true);
    }, this.o.intervalMs);
    t.unref();
    this.timers.set(s, t);
  }

  private save(s: SessionInfo, retry: boolean): Promise<void> {
    // The text is taken now, not when the queued write runs.
    const text = s.text();
    return this.enqueue(async () => {
      const file = this.fileName(s.path);
      if (!file) return;
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, text);
      } catch (err) {
        const what = `Failed to write session for path "${file}": ${(err as Error).message}`;
        this.ctx?.log('error', retry ? `${what}\n\tWill retry in ${Math.round(this.o.intervalMs / 1000)} seconds` : what);
        if (retry) this.schedule(s);
        return;
      }
      const hook = this.o.hook;
      if (hook !== undefined) runHook(hook, [s.path, file], (m) => this.ctx?.log('error', `Failed to execute hook "${hook}": ${m}`));
    });
  }

  sessionAdded(s: SessionInfo): void {
    void this.save(s, true);
  }

  sessionRemoved(s: SessionInfo): void {
    const t = this.timers.get(s);
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(s);
    void this.save(s, false);
  }

  requestExecuted(e: RequestEvent): void {
    if (e.affectsBuffer) this.schedule(e.session);
  }

  nodeRemoved(path: string): void {
    const file = this.fileName(path);
    if (!file) return;
    void this.enqueue(async () => {
      try {
        await rm(file, { recursive: true, force: true });
      } catch (err) {
        this.ctx?.log('error', `Failed to remove directory "${file}": ${(err as Error).message}`);
      }
    });
  }
}
