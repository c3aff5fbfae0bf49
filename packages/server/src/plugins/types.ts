/**
 * The closed set of lifecycle hooks a tandemd plugin can implement. The first four are infinoted's
 * own (infinoted/infinoted-plugin-manager.h: connection added/removed, session added/removed); the
 * rest expose the signals infinoted's plugins connect to on libinfinity objects
 * (InfAdoptedAlgorithm::begin-execute-request, InfSession::error, InfAdoptedSession::check-request,
 * InfUserTable::add-user, InfBrowser::node-removed, InfXmlConnection::sent/received/error).
 */
import type { Request, StateVector } from '@tandem/adopted';
import type { Element, WireUser } from '@tandem/protocol';

/** A client connection as plugins see it. */
export interface ConnectionInfo {
  /** "[::ffff:127.0.0.1]:40000"-style peer id (the InfXmlConnection remote-id). */
  readonly remote: string;
}

/** A loaded (hosted) document. */
export interface SessionInfo {
  /** The node id in the directory. */
  readonly id: number;
  /** The node path, "/dir/doc" (inf_browser_get_path). */
  readonly path: string;
  /** The buffer as plain text. */
  text(): string;
  /** A complete synchronisation of the current state: sync-begin, users, requests, segments, sync-end. */
  syncMessages(): Element[];
  /** Whether the buffer changed since the last save. */
  readonly modified: boolean;
  /** The buffer length in code points. */
  readonly length: number;
  /** How many users joined by clients are available (not unavailable). */
  clientUsers(): number;
  /**
   * Joins a server-side user that edits like a client: every subscriber sees it join and its
   * requests (infd_session_proxy_join_user without a connection, INF_USER_LOCAL). Throws when a
   * client's available user has the name (INF_USER_ERROR 0).
   */
  joinUser(name: string, o?: { hue?: number }): ServerUser;
}

/** A server-side user of a session (see SessionInfo.joinUser); positions count code points. */
export interface ServerUser {
  readonly id: number;
  readonly name: string;
  insert(pos: number, text: string): void;
  erase(pos: number, len: number): void;
  /** Makes the user unavailable for everyone; a later joinUser with the name rejoins it. */
  leave(): void;
}

export interface RequestEvent {
  readonly session: SessionInfo;
  readonly user: { readonly id: number; readonly name: string };
  readonly connection?: ConnectionInfo;
  /** The request as executed, with its absolute vector (one per step of a multi-step undo). */
  readonly request: Request;
  /** Wall-clock times in microseconds since the epoch (g_get_real_time). */
  readonly received: number;
  readonly executed: number;
  /** Whether it changed the buffer (every kind except move and no-op). */
  readonly affectsBuffer: boolean;
}

export interface CheckRequestEvent {
  readonly session: SessionInfo;
  readonly user: { readonly id: number; readonly name: string };
  readonly connection: ConnectionInfo;
  /** The request's absolute vector and the session's current state. */
  readonly vector: StateVector;
  readonly current: StateVector;
}

export interface SessionErrorEvent {
  readonly session: SessionInfo;
  readonly connection: ConnectionInfo;
  /** The message that could not be processed. */
  readonly message: Element;
  readonly error: string;
}

export type TrafficDirection = 'received' | 'sent';

export interface PluginHooks {
  /** A connection finished authentication and joined the directory. */
  connectionAdded?(c: ConnectionInfo): void;
  connectionRemoved?(c: ConnectionInfo): void;
  /** A transport or XML error on a connection (it is being closed). */
  connectionError?(c: ConnectionInfo, error: string): void;
  /** Group traffic after authentication, serialised as on the wire. */
  traffic?(c: ConnectionInfo, direction: TrafficDirection, xml: string): void;
  /** A session was loaded, created, or synchronised in. */
  sessionAdded?(s: SessionInfo): void;
  /** A session is being unloaded, removed or closed at shutdown. */
  sessionRemoved?(s: SessionInfo): void;
  /** A user was added to a session's user table (first join; rejoins are not additions). */
  userAdded?(s: SessionInfo, user: WireUser): void;
  /**
   * A client's user joined, rejoined, left or became unavailable (InfUserTable's
   * add-available-user / remove-available-user); server-side users do not trigger it.
   */
  usersChanged?(s: SessionInfo): void;
  /**
   * Before a request is transformed and executed. A returned string rejects it: the connection
   * is unsubscribed from the session and the string is logged (InfAdoptedSession::check-request).
   */
  checkRequest?(e: CheckRequestEvent): string | undefined;
  requestExecuted?(e: RequestEvent): void;
  /** A session message from a client could not be processed. */
  sessionError?(e: SessionErrorEvent): void;
  /** A session was written to storage. */
  sessionSaved?(s: SessionInfo): void;
  /** A node (document or subdirectory, with everything under it) was removed. */
  nodeRemoved?(path: string, subdirectory: boolean): void;
}

export type LogLevel = 'info' | 'warning' | 'error';

/** What the server offers a plugin. */
export interface PluginContext {
  log(level: LogLevel, line: string): void;
  /** Writes a loaded session to storage now (infd_directory_iter_save_session). */
  saveSession(id: number): Promise<void>;
}

/** A plugin instance, created from its configuration; hooks are called between start and stop. */
export interface Plugin extends PluginHooks {
  readonly name: string;
  start?(ctx: PluginContext): void | Promise<void>;
  stop?(): void | Promise<void>;
}
