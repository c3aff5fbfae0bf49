/**
 * The linekeeper plugin (infinoted-plugin-linekeeper.c): every document ends with exactly
 * `n-lines` empty lines. A server-side user "LineKeeper" (hue 0) joins a document while clients'
 * users are available in it, and after each change inserts or erases line breaks at the end;
 * it leaves when the last client user leaves, so it never keeps a session from going idle.
 */
import type { Plugin, PluginContext, RequestEvent, ServerUser, SessionInfo } from './types.js';

/** infinoted's name for the plugin's user. */
export const LINEKEEPER_USER = 'LineKeeper';

/**
 * Line breaks at the end of `text`: "\n" and U+2028 (the only character of GLib's
 * G_UNICODE_LINE_SEPARATOR category), as infinoted_plugin_linekeeper_count_lines.
 */
export function trailingLines(text: string): number {
  let n = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && c !== 0x2028) break;
    n++;
  }
  return n;
}

interface PerSession {
  user?: ServerUser;
  /** The pending run after a change (inf_io_add_dispatch: once per main-loop turn). */
  pending?: NodeJS.Immediate;
}

export class LinekeeperPlugin implements Plugin {
  readonly name = 'linekeeper';
  private ctx: PluginContext | undefined;
  private readonly sessions = new Map<SessionInfo, PerSession>();

  constructor(private readonly nLines: number) {}

  start(ctx: PluginContext): void {
    this.ctx = ctx;
  }

  sessionAdded(s: SessionInfo): void {
    this.sessions.set(s, {});
    this.usersChanged(s);
  }

  sessionRemoved(s: SessionInfo): void {
    const st = this.sessions.get(s);
    if (!st) return;
    this.sessions.delete(s);
    if (st.pending) clearImmediate(st.pending);
    st.user?.leave();
  }

  /** Joins while a client's user is available, leaves when none is. */
  usersChanged(s: SessionInfo): void {
    const st = this.sessions.get(s);
    if (!st) return;
    const wanted = s.clientUsers() > 0;
    if (wanted && !st.user) {
      try {
        st.user = s.joinUser(LINEKEEPER_USER, { hue: 0 });
      } catch (err) {
        this.ctx?.log('warning', `Could not join LineKeeper user for document ${s.path}: ${(err as Error).message}`);
        return;
      }
      this.run(s, st);
    } else if (!wanted && st.user) {
      st.user.leave();
      delete st.user;
    }
  }

  /** Any change (its own included, which then finds nothing to do) schedules one run. */
  requestExecuted(e: RequestEvent): void {
    const st = this.sessions.get(e.session);
    if (!st?.user || !e.affectsBuffer || st.pending) return;
    st.pending = setImmediate(() => {
      delete st.pending;
      if (this.sessions.get(e.session) === st) this.run(e.session, st);
    });
  }

  /** infinoted_plugin_linekeeper_run: erase the surplus or append the missing line breaks. */
  private run(s: SessionInfo, st: PerSession): void {
    if (!st.user) return;
    const have = trailingLines(s.text());
    const length = s.length;
    if (have > this.nLines) st.user.erase(length - (have - this.nLines), have - this.nLines);
    else if (have < this.nLines) st.user.insert(length, '\n'.repeat(this.nLines - have));
  }

  stop(): void {
    for (const s of [...this.sessions.keys()]) this.sessionRemoved(s);
  }
}
