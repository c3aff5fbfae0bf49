/**
 * The record plugin (infinoted-plugin-record.c + inf-adopted-session-record.c): one file per
 * loaded session, `<dir>/<path without the leading '/', '/' -> '_'>.record-NNNNN.xml`, in the
 * <infinote-adopted-session-record> format of protocol.md §7.7, that libinfinity's
 * InfAdoptedSessionReplay (and our conformance runner) can replay. Written and flushed entry by
 * entry; the closing tag is written when the session is unloaded.
 *
 * One deliberate difference from libinfinity's writer: operation elements are written without
 * indentation inside them. xmlTextWriter's indenting puts white space before a <uchar/> that
 * starts an insert, and that white space becomes part of the replayed text.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StateVector, type Request } from '@tandem/adopted';
import { Element, type WireUser, decodeUser, wireOperationOf, encodeRequest, encodeTimeDiff, encodeUser, formatDouble, serialize, serializeStartTag } from '@tandem/protocol';
import type { Plugin, PluginContext, RequestEvent, SessionInfo } from './types.js';

export interface RecordOptions {
  /** Where record files go; infinoted always uses ~/.infinoted-records. */
  directory?: string;
}

export const defaultRecordDirectory = (): string => join(homedir(), '.infinoted-records');

/** Record file name of a node path (infinoted_plugin_record_session_added). */
export function recordBaseName(path: string): string {
  return path.replace(/^\//, '').replace(/\//g, '_');
}

function seconds(micros: number): string {
  return formatDouble(micros / 1_000_000);
}

/** One open record file. */
export class SessionRecordFile {
  /** Per user: the vector its next request's `time` is diff-encoded against (last_send_table). */
  private readonly lastSend = new Map<number, StateVector>();
  private fd: number | undefined;

  constructor(readonly filename: string, initial: readonly Element[]) {
    for (const el of initial) {
      if (el.name !== 'sync-user') continue;
      const u = decodeUser(el);
      this.lastSend.set(u.id, u.time ?? StateVector.zero);
    }
    this.fd = openSync(filename, 'w');
    let head = '<?xml version="1.0" encoding="UTF-8"?>\n<infinote-adopted-session-record>\n <initial>\n';
    for (const el of initial) head += `  ${serialize(el)}\n`;
    this.write(head + ' </initial>\n');
  }

  private write(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text);
  }

  /** A user added to the user table (first join), with its absolute vector. */
  user(u: WireUser, at: number): void {
    this.lastSend.set(u.id, u.time ?? StateVector.zero);
    const attrs = encodeUser('sync-user', u).attrs as Record<string, string>;
    const el = new Element('user', { ...attrs, executed: seconds(at) });
    this.write(`\n   ${serialize(el)}\n`);
  }

  /** An executed request; `time` relative to the user's previous recorded request. */
  request(r: Request, affectsBuffer: boolean, received: number, executed: number): void {
    const base = this.lastSend.get(r.user) ?? StateVector.zero;
    // A vector that does not follow the reference cannot be diff-encoded; write it absolute.
    const time = base.causallyBefore(r.vector) ? encodeTimeDiff(r.vector, base) : r.vector.toString();
    const el = encodeRequest({ user: r.user, time, operation: wireOperationOf(r, false) });
    el.attrs.received = seconds(received);
    el.attrs.executed = seconds(executed);
    const op = el.children[0] as Element;
    this.write(` ${serializeStartTag(el)}\n  ${serialize(op)}\n </request>\n`);
    this.lastSend.set(r.user, affectsBuffer ? r.vector.add(r.user, 1) : r.vector);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.write('\n</infinote-adopted-session-record>\n');
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** First unused `<base>.record-NNNNN.xml`, or undefined after 100000 tries (as infinoted). */
function unusedName(dir: string, base: string): string | undefined {
  for (let i = 0; i < 100000; i++) {
    const f = join(dir, `${base}.record-${String(i).padStart(5, '0')}.xml`);
    if (!existsSync(f)) return f;
  }
  return undefined;
}

export class RecordPlugin implements Plugin {
  readonly name = 'record';
  private readonly directory: string;
  private readonly files = new Map<SessionInfo, SessionRecordFile>();
  private ctx: PluginContext | undefined;

  constructor(o: RecordOptions = {}) {
    this.directory = o.directory ?? defaultRecordDirectory();
  }

  start(ctx: PluginContext): void {
    this.ctx = ctx;
  }

  stop(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }

  /** The record file of a loaded session (for the logging plugin and tests). */
  fileOf(s: SessionInfo): string | undefined {
    return this.files.get(s)?.filename;
  }

  sessionAdded(s: SessionInfo): void {
    const base = recordBaseName(s.path);
    try {
      mkdirSync(this.directory, { recursive: true });
    } catch (err) {
      this.ctx?.log('warning', `Could not create directory "${this.directory}": ${(err as Error).message}`);
      return;
    }
    const filename = unusedName(this.directory, base);
    if (!filename) {
      this.ctx?.log('warning', `Could not create record file for session "${base}": Could not generate unused record file in directory "${this.directory}"`);
      return;
    }
    try {
      this.files.set(s, new SessionRecordFile(filename, s.syncMessages()));
    } catch (err) {
      this.ctx?.log('warning', `Error while writing record for session "${base}" into "${filename}": ${(err as Error).message}`);
    }
  }

  sessionRemoved(s: SessionInfo): void {
    this.files.get(s)?.close();
    this.files.delete(s);
  }

  userAdded(s: SessionInfo, user: WireUser): void {
    this.guard(s, (f) => f.user(user, Math.round((performance.timeOrigin + performance.now()) * 1000)));
  }

  requestExecuted(e: RequestEvent): void {
    this.guard(e.session, (f) => f.request(e.request, e.affectsBuffer, e.received, e.executed));
  }

  /** A write error stops that session's record, with one warning (not one per request). */
  private guard(s: SessionInfo, fn: (f: SessionRecordFile) => void): void {
    const f = this.files.get(s);
    if (!f) return;
    try {
      fn(f);
    } catch (err) {
      this.ctx?.log('warning', `Error writing record "${f.filename}": ${(err as Error).message}`);
      this.files.delete(s);
      try {
        f.close();
      } catch {
        // the file is unusable either way
      }
    }
  }
}
