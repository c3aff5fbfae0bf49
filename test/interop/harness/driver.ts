// Typed promise API over test/interop/py/infdriver.py: a real libinfinity 0.7 client that
// answers one JSON line per command (see that file's docstring for the line protocol).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PYTHON, requireRealLibinfinity } from './prerequisites.js';
import { stopProcess, track } from './processes.js';
import type { SecurityPolicy } from './server.js';

/** Source path of the driver (this file runs from test/dist/interop/harness/). */
export const DRIVER_SCRIPT = process.env.TANDEM_INFDRIVER ??
  fileURLToPath(new URL('../../../interop/py/infdriver.py', import.meta.url));

export type Segments = Array<[author: number, text: string]>;
export interface TextState { text: string; segments: Segments }
export interface NodeEntry { name: string; type: string }
export interface UserInfo {
  id: number;
  name: string;
  status: 'active' | 'inactive' | 'unavailable';
  /** Joined through this driver (and still joined). */
  local: boolean;
  hue?: number;
  caret?: number;
}
export interface ChatMessage {
  type: 'normal' | 'emote' | 'userjoin' | 'userpart';
  user: string | null;
  text: string;
  time: number;
}

type Empty = Record<string, never>;
interface Path { path: string }

/** Every driver command: its parameters and the fields of its ok:true answer. */
export interface DriverCommands {
  /** security: no-tls = ONLY_UNSECURED, allow-tls = BOTH_PREFER_TLS, require-tls = ONLY_TLS. */
  connect: {
    /** `cert` (PEM chain) and `key` (PEM) files: a client certificate presented in the TLS handshake. */
    params: { host?: string; port: number; security: SecurityPolicy; user?: string; password?: string; hostname?: string; cert?: string; key?: string };
    /** `account`: the ACL account the server logged the connection into (welcome), null before ACL support. */
    result: { tls: boolean; account: { id: string; name: string | null } | null };
  };
  explore: { params: Path; result: { children: NodeEntry[] } };
  mkdir: { params: Path; result: Empty };
  /** With non-empty text the document is uploaded by sync-in (authored by `author`, default 0). */
  create: { params: Path & { text?: string; author?: number }; result: Empty };
  remove: { params: Path; result: Empty };
  subscribe: { params: Path; result: TextState };
  unsubscribe: { params: Path; result: Empty };
  join: {
    params: Path & { name: string; hue?: number; status?: 'active' | 'inactive'; caret?: number };
    result: { user: UserInfo };
  };
  leave: { params: Path; result: Empty };
  /** clamp: move pos/len into the current document instead of refusing (random concurrent edits). */
  insert: { params: Path & { pos: number; text: string; clamp?: boolean }; result: { length: number; pos: number } };
  delete: {
    params: Path & { pos: number; len: number; clamp?: boolean };
    result: { length: number; pos: number; len: number };
  };
  undo: { params: Path & { n?: number }; result: { length: number } };
  redo: { params: Path & { n?: number }; result: { length: number } };
  text: { params: Path; result: TextState };
  wait_text: { params: Path & { text: string }; result: TextState };
  users: { params: Path; result: { users: UserInfo[] } };
  chat_subscribe: { params: { name?: string }; result: { user: UserInfo; backlog: ChatMessage[] } };
  chat_send: { params: { text: string; emote?: boolean }; result: Empty };
  /** Subscribes and closes the session during its synchronisation: the client sends sync-error (RECEIVER_CANCELLED). */
  subscribe_cancel: { params: Path; result: { progress: number } };
  /** Uploads a new document (sync-in) and closes the local session during the upload: the client sends sync-cancel. */
  create_cancel: { params: Path & { text: string; author?: number }; result: { progress: number } };
  /** The ACL account the connection is logged into now (it changes with change-acl-account). */
  account: { params: Empty; result: { account: { id: string; name: string | null } | null } };
  ping: { params: Empty; result: { pong: true } };
  close: { params: Empty; result: Empty };
}
export type DriverCommand = keyof DriverCommands;

export type DriverEvent =
  | { event: 'ready'; pid: number }
  | { event: 'text-changed'; path: string; kind: 'insert'; pos: number; text: string; user: string | null }
  | { event: 'text-changed'; path: string; kind: 'erase'; pos: number; len: number; user: string | null }
  | ({ event: 'chat' } & ChatMessage)
  | { event: 'session-closed'; path: string }
  | { event: 'connection-error'; error: string }
  | { event: 'disconnected'; error: string | null };

/** A command answered ok:false; `wireError` is "<domain> <code>: <message>" where libinfinity gave one. */
export class DriverCommandError extends Error {
  constructor(readonly command: string, readonly wireError: string) {
    super(`infdriver ${command}: ${wireError}`);
    this.name = 'DriverCommandError';
  }
}

export interface CallOptions {
  /** Driver-side timeout (ms); the promise also rejects 5 s after it if the driver never answers. */
  timeoutMs?: number;
}

export type CallOutcome<C extends DriverCommand> =
  | ({ ok: true } & DriverCommands[C]['result'])
  | { ok: false; error: string };

export interface InfDriver {
  readonly pid: number;
  /** Runs a command; rejects with DriverCommandError on ok:false. */
  call<C extends DriverCommand>(cmd: C, params: DriverCommands[C]['params'], opts?: CallOptions): Promise<DriverCommands[C]['result']>;
  /** Runs a command and returns the answer either way (for tests that expect errors). */
  attempt<C extends DriverCommand>(cmd: C, params: DriverCommands[C]['params'], opts?: CallOptions): Promise<CallOutcome<C>>;
  /** Every event received so far, in order. */
  readonly events: readonly DriverEvent[];
  /** Emits 'event' (DriverEvent) and one event per type name ('text-changed', 'chat', ...). */
  readonly emitter: EventEmitter;
  /** First event (already received or future) matching `pred`. */
  waitForEvent(pred: (e: DriverEvent) => boolean, timeoutMs?: number): Promise<DriverEvent>;
  /** What the driver wrote to stderr (libinfinity warnings, tracebacks). */
  stderr(): string;
  /** Closes the connection if any, then ends the process. Idempotent. */
  stop(): Promise<void>;
}

export interface DriverOptions {
  /** Copy the driver's stderr to ours as it arrives (default: only kept for stderr()). */
  echoStderr?: boolean;
  /** Default command timeout in ms (default 10000). */
  timeoutMs?: number;
}

interface Answer { id: number; ok: boolean; error?: string; [k: string]: unknown }

/** Spawns infdriver.py and resolves once it reported ready. */
export async function startDriver(options: DriverOptions = {}): Promise<InfDriver> {
  requireRealLibinfinity();
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, ['-u', DRIVER_SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONIOENCODING: 'utf-8', LC_ALL: 'C.UTF-8' },
  });
  track(child);
  const defaultTimeout = options.timeoutMs ?? 10000;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const events: DriverEvent[] = [];
  const waiting = new Map<number, (a: Answer) => void>();
  let err = '';
  let buf = '';
  let nextId = 1;
  let dead: string | null = null;

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    err += s;
    if (options.echoStderr) process.stderr.write(s);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  });
  const onLine = (line: string) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      err += `[harness] unparsable driver line: ${line}\n`;
      return;
    }
    if (typeof msg.event === 'string') {
      const ev = msg as unknown as DriverEvent;
      events.push(ev);
      emitter.emit('event', ev);
      emitter.emit(ev.event, ev);
    } else if (typeof msg.id === 'number') {
      waiting.get(msg.id)?.(msg as Answer);
      waiting.delete(msg.id);
    } else {
      err += `[harness] driver answer without id: ${line}\n`;
    }
  };
  child.once('exit', (code, sig) => {
    dead = `infdriver exited (code ${code}, signal ${sig})${err ? `; stderr:\n${err.slice(-4000)}` : ''}`;
    for (const [id, resolve] of waiting) resolve({ id, ok: false, error: dead });
    waiting.clear();
    emitter.emit('exit', dead);
  });
  child.once('error', (e) => {
    dead = `could not run ${PYTHON} ${DRIVER_SCRIPT}: ${e.message}`;
    emitter.emit('exit', dead);
  });
  child.stdin.on('error', () => {
    /* the driver died; 'exit' reports it */
  });

  const waitForEvent = (pred: (e: DriverEvent) => boolean, timeoutMs = defaultTimeout): Promise<DriverEvent> => {
    const seen = events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onEv = (e: DriverEvent) => {
        if (!pred(e)) return;
        cleanup();
        resolve(e);
      };
      const onExit = (why: string) => {
        cleanup();
        reject(new Error(why));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching infdriver event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        emitter.off('event', onEv);
        emitter.off('exit', onExit);
      };
      emitter.on('event', onEv);
      emitter.on('exit', onExit);
    });
  };

  const attempt = <C extends DriverCommand>(cmd: C, params: DriverCommands[C]['params'], opts: CallOptions = {}): Promise<CallOutcome<C>> => {
    if (dead) return Promise.resolve({ ok: false, error: dead });
    const id = nextId++;
    const timeout = opts.timeoutMs ?? defaultTimeout;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve({ ok: false, error: `infdriver did not answer ${cmd} within ${timeout + 5000} ms` });
      }, timeout + 5000);
      waiting.set(id, (a) => {
        clearTimeout(timer);
        const { id: _id, ...rest } = a;
        resolve(rest as CallOutcome<C>);
      });
      child.stdin.write(JSON.stringify({ ...params, id, cmd, timeout }) + '\n');
    });
  };

  const call = async <C extends DriverCommand>(cmd: C, params: DriverCommands[C]['params'], opts?: CallOptions): Promise<DriverCommands[C]['result']> => {
    const a = await attempt(cmd, params, opts);
    if (!a.ok) throw new DriverCommandError(cmd, a.error);
    const { ok: _ok, ...result } = a;
    return result as unknown as DriverCommands[C]['result'];
  };

  await waitForEvent((e) => e.event === 'ready', 15000).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`infdriver did not start: ${e.message}${err ? `\n${err}` : ''}`);
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!dead) await attempt('close', {}, { timeoutMs: 3000 });
      child.stdin.end();
      await stopProcess(child, 2000);
    })());

  return {
    pid: child.pid ?? -1,
    call,
    attempt,
    events,
    emitter,
    waitForEvent,
    stderr: () => err,
    stop,
  };
}
