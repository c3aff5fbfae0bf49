/**
 * What an interop test needs from "the server": infinoted today, tandemd later (a
 * `startTandemd(options)` returning the same shape), so one test body can run against both.
 */
export type SecurityPolicy = 'no-tls' | 'allow-tls' | 'require-tls';

export interface ServerOptions {
  securityPolicy: SecurityPolicy;
  /** SASL PLAIN password; without it the server offers ANONYMOUS only. */
  password?: string;
  /** infinoted plugin names; note-text is always loaded. */
  plugins?: string[];
  /** Storage root to reuse (e.g. to restart on the same documents); a fresh temp dir otherwise. */
  root?: string;
  /** Extra command line arguments, passed through verbatim. */
  extraArgs?: string[];
  /** Port to listen on; a free one otherwise (restarts reuse the old port). */
  port?: number;
}

export interface ServerUnderTest {
  readonly kind: 'infinoted' | 'tandemd';
  readonly host: string;
  readonly port: number;
  /** Storage root directory. */
  readonly root: string;
  readonly securityPolicy: SecurityPolicy;
  readonly password?: string;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Stops the server and waits for its exit. Idempotent. */
  stop(): Promise<void>;
}

export type StartServer = (options: ServerOptions) => Promise<ServerUnderTest>;
