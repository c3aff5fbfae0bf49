// Byte transports under one XMPP stream: a TCP socket (which can turn into TLS in place for
// STARTTLS, in tcp.ts) or a WebSocket carrying the same bytes in its frames (here). This module
// must load in a browser, so it imports nothing from Node: tcp.ts (node:net, node:tls) is loaded
// only when a TCP connection is made. The stream logic above is the same for all of them.
import { ClientError } from '../errors.js';

export interface TransportHandlers {
  data(chunk: Uint8Array | string): void;
  /** The transport is gone; `error` if it failed rather than ended. */
  close(error?: Error): void;
}

export interface Transport {
  /** "host:port" or the URL, for messages. */
  readonly description: string;
  /** Whether the transport itself is encrypted (TLS socket after STARTTLS, or wss://). */
  readonly secure: boolean;
  /** Whether STARTTLS can run on this transport (TCP only). */
  readonly canStartTls: boolean;
  listen(handlers: TransportHandlers): void;
  write(data: string): void;
  /** Orderly end after what was written. */
  end(): void;
  destroy(): void;
  /** RFC 6120 §5.4.3.3: the TLS handshake on the same connection; resolves to the SHA-256 fingerprint. */
  startTls(): Promise<string>;
}

/** The subset of the WHATWG WebSocket API that both browsers and the `ws` package provide. */
interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => WebSocketLike;

/**
 * In Node the `ws` package (it can skip certificate checks for `insecure`; Node 20 has no global
 * WebSocket), elsewhere (a browser) the global WebSocket, where the browser checks certificates.
 */
async function webSocketClass(): Promise<{ ctor: WebSocketConstructor; node: boolean }> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (isNode) {
    try {
      const ws = await import('ws');
      return { ctor: ws.WebSocket as unknown as WebSocketConstructor, node: true };
    } catch (err) {
      if (!global) throw new ClientError('CONNECT_FAILED', `WebSockets need the "ws" package in Node: ${(err as Error).message}`);
      return { ctor: global, node: false };
    }
  }
  if (!global) throw new ClientError('CONNECT_FAILED', 'this environment has no WebSocket');
  return { ctor: global, node: false };
}

/**
 * Opens a WebSocket to `url` (ws:// or wss://). The XMPP stream travels as UTF-8 in the
 * frames; frame boundaries mean nothing, exactly like TCP segments.
 */
export async function connectWebSocket(url: string, options: { insecure?: boolean } = {}): Promise<Transport> {
  const { ctor, node } = await webSocketClass();
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = node ? new ctor(url, undefined, { rejectUnauthorized: !options.insecure, perMessageDeflate: false }) : new ctor(url);
    } catch (err) {
      reject(new ClientError('CONNECT_FAILED', `cannot connect to ${url}: ${(err as Error).message}`));
      return;
    }
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => resolve(new WebSocketTransport(socket, url));
    socket.onerror = (ev) => {
      const message = (ev as { message?: string }).message ?? 'the WebSocket failed';
      reject(new ClientError('CONNECT_FAILED', `cannot connect to ${url}: ${message}`));
    };
  });
}

class WebSocketTransport implements Transport {
  readonly canStartTls = false;

  constructor(
    private readonly socket: WebSocketLike,
    private readonly url: string,
  ) {}

  get description(): string {
    return this.url;
  }

  get secure(): boolean {
    return this.url.startsWith('wss:');
  }

  listen(handlers: TransportHandlers): void {
    let failure: Error | undefined;
    this.socket.onmessage = (ev) => {
      const data = ev.data;
      if (typeof data === 'string') handlers.data(data);
      else if (data instanceof ArrayBuffer) handlers.data(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) handlers.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    };
    this.socket.onerror = (ev) => {
      failure = new ClientError('CONNECT_FAILED', `connection to ${this.url} failed: ${(ev as { message?: string }).message ?? 'WebSocket error'}`);
    };
    this.socket.onclose = () => handlers.close(failure);
  }

  write(data: string): void {
    // readyState 1 = OPEN; writes after the close started are dropped like on a half-closed socket.
    if (this.socket.readyState === 1) this.socket.send(data);
  }

  end(): void {
    if (this.socket.readyState <= 1) this.socket.close(1000);
  }

  destroy(): void {
    if (this.socket.readyState <= 1) this.socket.close(1000);
  }

  startTls(): Promise<string> {
    return Promise.reject(new ClientError('PROTOCOL', `STARTTLS is not possible over a WebSocket; use wss:// instead of ${this.url}`));
  }
}
