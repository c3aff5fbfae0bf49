/**
 * The logging plugin (infinoted-plugin-logging.c): extra lines in the server log for connections
 * ("<peer> (no client certificate) connected" / "disconnected"), connection errors and session
 * errors, the latter followed by the document, connection and offending message.
 */
import { serialize } from '@tandem/protocol';
import type { ConnectionInfo, Plugin, PluginContext, SessionErrorEvent } from './types.js';

export interface LoggingOptions {
  logConnections: boolean;
  logConnectionErrors: boolean;
  logSessionErrors: boolean;
  /** Accepted for compatibility; see docs/features.md. */
  logSessionRequestExtra: boolean;
}

export const defaultLoggingOptions: Readonly<LoggingOptions> = Object.freeze({
  logConnections: true, logConnectionErrors: true, logSessionErrors: true, logSessionRequestExtra: true,
});

/** infinoted_plugin_logging_connection_string: tandemd does not read client certificates here. */
function describe(c: ConnectionInfo): string {
  return `${c.remote} (no client certificate)`;
}

export class LoggingPlugin implements Plugin {
  readonly name = 'logging';
  private ctx: PluginContext | undefined;

  constructor(private readonly o: LoggingOptions = defaultLoggingOptions) {}

  start(ctx: PluginContext): void {
    this.ctx = ctx;
  }

  connectionAdded(c: ConnectionInfo): void {
    if (this.o.logConnections) this.ctx?.log('info', `${describe(c)} connected`);
  }

  connectionRemoved(c: ConnectionInfo): void {
    if (this.o.logConnections) this.ctx?.log('info', `${describe(c)} disconnected`);
  }

  connectionError(c: ConnectionInfo, error: string): void {
    if (this.o.logConnectionErrors) this.ctx?.log('error', `Error from connection ${describe(c)}: ${error}`);
  }

  sessionError(e: SessionErrorEvent): void {
    if (!this.o.logSessionErrors) return;
    this.ctx?.log('error', `Session error: ${e.error}`);
    this.ctx?.log('error', `in document ${e.session.path} from connection ${describe(e.connection)}. The request was: ${serialize(e.message)}`);
  }
}
