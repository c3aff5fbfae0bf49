// Client errors. Each carries a stable `code` so callers (and the CLI's exit status) branch on
// codes rather than classes; server refusals keep libinfinity's domain + numeric code pair.

export type ClientErrorCode =
  | 'CONNECT_FAILED' // TCP/TLS could not be established or was lost
  | 'TLS_REQUIRED' // the server requires TLS and --no-tls was given
  | 'TLS_UNAVAILABLE' // --tls was given and the server offers no STARTTLS
  | 'CERTIFICATE_CHANGED' // TOFU pin mismatch
  | 'AUTH_FAILED' // SASL failure
  | 'PROTOCOL' // the server said something we cannot follow
  | 'TIMEOUT'
  | 'CLOSED' // connection or session closed while waiting
  | 'NOT_FOUND'
  | 'REQUEST_FAILED'; // the server refused a request (see domain/infCode)

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** A `<request-failed code domain>` reply (protocol.md §2.5, §3.13). */
export class RequestFailedError extends ClientError {
  constructor(
    readonly domain: string,
    readonly infCode: number,
    message: string,
  ) {
    super('REQUEST_FAILED', message);
    this.name = 'RequestFailedError';
  }
}

/** Rejects after `ms` with a TIMEOUT error naming what was awaited; never leaves a timer behind. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClientError('TIMEOUT', `timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve/reject exposed (Node 20 has no Promise.withResolvers). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (e.g. after close) must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
