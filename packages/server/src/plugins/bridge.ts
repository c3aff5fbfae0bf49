/**
 * SessionBridge: turns what the directory and its text sessions do into PluginHost hooks, giving
 * each loaded session one SessionInfo for its lifetime (infinoted's per-session plugin info).
 */
import type { Executed } from '@tandem/adopted';
import type { Element, WireUser } from '@tandem/protocol';
import type { Member, TextSession, TextSessionHooks } from '../session/text-session.js';
import type { PluginHost } from './host.js';
import type { ServerUser, SessionInfo } from './types.js';

export class SessionBridge implements TextSessionHooks {
  private readonly infos = new Map<TextSession, SessionInfo>();

  constructor(private readonly host: PluginHost) {}

  /** A session was loaded or created at node `id` with path `path` ("/a/b"). */
  added(session: TextSession, id: number, path: string): void {
    if (this.infos.has(session)) return;
    const info: SessionInfo = {
      id,
      path,
      text: () => session.text(),
      syncMessages: () => session.syncMessages(),
      get modified() {
        return session.modified;
      },
      get length() {
        return session.length;
      },
      clientUsers: () => session.availableClientUsers(),
      joinUser: (name, o = {}): ServerUser => {
        const id = session.joinLocal(name, o.hue ?? 0);
        return {
          id,
          name,
          insert: (pos, text) => session.localEdit(id, { kind: 'insert', pos, text }),
          erase: (pos, len) => session.localEdit(id, { kind: 'delete', pos, len }),
          leave: () => session.leaveLocal(id),
        };
      },
    };
    this.infos.set(session, info);
    this.host.sessionAdded(info);
  }

  removed(session: TextSession): void {
    const info = this.infos.get(session);
    if (!info) return;
    this.infos.delete(session);
    this.host.sessionRemoved(info);
  }

  saved(session: TextSession): void {
    const info = this.infos.get(session);
    if (info) this.host.sessionSaved(info);
  }

  nodeRemoved(path: string, subdirectory: boolean): void {
    this.host.nodeRemoved(path, subdirectory);
  }

  checkRequest(s: TextSession, m: Member, user: { id: number; name: string }, vector: Parameters<TextSessionHooks['checkRequest']>[3], current: Parameters<TextSessionHooks['checkRequest']>[4]): string | undefined {
    const session = this.infos.get(s);
    return session ? this.host.checkRequest({ session, user, connection: m, vector, current }) : undefined;
  }

  requestExecuted(s: TextSession, m: Member | undefined, user: { id: number; name: string }, x: Executed, received: number, at: number): void {
    const session = this.infos.get(s);
    if (!session) return;
    const r = x.request;
    const affectsBuffer = r.type !== 'do' || (r.op.kind !== 'move' && r.op.kind !== 'no-op');
    this.host.requestExecuted({ session, user, ...(m ? { connection: m } : {}), request: r, received, executed: at, affectsBuffer });
  }

  userAdded(s: TextSession, user: WireUser): void {
    const session = this.infos.get(s);
    if (session) this.host.userAdded(session, user);
  }

  usersChanged(s: TextSession): void {
    const session = this.infos.get(s);
    if (session) this.host.usersChanged(session);
  }

  sessionError(s: TextSession, m: Member, message: Element, error: string): void {
    const session = this.infos.get(s);
    if (session) this.host.sessionError({ session, connection: m, message, error });
  }
}
