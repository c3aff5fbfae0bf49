/**
 * The transformation-protection plugin (infinoted-plugin-transformation-protection.c): a request
 * whose vector is more than `max-vdiff` requests behind the session's current state would make
 * the server transform it that many times; it is refused and its connection unsubscribed.
 *
 * tandemd loads it by default with DEFAULT_MAX_VDIFF. An honest client is never further behind
 * than the requests it has not received yet; with the server's outgoing buffer capped
 * (maxPendingOutputBytes) that is bounded far below this limit.
 */
import type { CheckRequestEvent, Plugin } from './types.js';

export const DEFAULT_MAX_VDIFF = 100_000;

export class TransformationProtectionPlugin implements Plugin {
  readonly name = 'transformation-protection';

  constructor(private readonly maxVdiff: number = DEFAULT_MAX_VDIFF) {}

  checkRequest(e: CheckRequestEvent): string | undefined {
    const vdiff = e.vector.vdiff(e.current);
    if (vdiff <= this.maxVdiff) return undefined;
    return `In document "${e.session.path}": Attempt to transform request "${e.vector.toString()}" to current state "${e.current.toString()}" `
      + `(vdiff=${vdiff}) by user "${e.user.name}" (id=${e.user.id}, conn=${e.connection.remote}). Maximum allowed is ${this.maxVdiff}; `
      + 'the connection has been unsubscribed.';
  }
}
