/**
 * WebSocket transport, so that browsers join the same sessions: each WebSocket carries one XMPP
 * stream, exactly the bytes a TCP connection would carry, in binary or text frames whose
 * boundaries mean nothing (like TCP segments). The connection goes through the same
 * `server.handle(duplex)` as TCP. STARTTLS is not offered on a WebSocket (there is no socket to
 * upgrade in place); with `tls` the listener speaks wss:// instead. The only module that knows `ws`.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import type { TandemServer } from '../server.js';
import { listenDualStack } from './listen.js';
import type { WebEditor } from './web-editor.js';

export interface WebSocketOptions {
  port: number;
  /** Default: '::' (dual stack), falling back to 0.0.0.0 where IPv6 is unavailable. */
  host?: string;
  /** PEM key and certificate chain: serve wss:// instead of ws://. */
  tls?: { key: string; cert: string };
  /** Answers plain HTTP GETs with the web editor (createWebEditor()); without it they get 426. */
  webEditor?: Pick<WebEditor, 'handle'>;
}

export interface WebSocketListener {
  readonly address: AddressInfo;
  /** Whether the listener speaks wss://. */
  readonly secure: boolean;
  close(): Promise<void>;
}

/**
 * Largest WebSocket message accepted. The stream parser bounds stanzas itself (the connection
 * limits); this only stops one frame from being buffered whole beyond any stanza size.
 */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function peerId(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '?';
  return `ws:${a.includes(':') ? `[${a}]` : a}:${req.socket.remotePort}`;
}

export async function listenWebSocket(server: TandemServer, o: WebSocketOptions): Promise<WebSocketListener> {
  const http: HttpServer = o.tls ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert }) : createHttpServer();
  // A plain HTTP request (no upgrade) gets the web editor if it is on and the path is its own,
  // otherwise a short answer instead of hanging.
  http.on('request', (req, res) => {
    if (o.webEditor?.handle(req, res)) return;
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('tandemd: connect with a WebSocket (an XMPP stream as infinoted speaks it)\n');
  });
  // No compression: documents travel as typed, and deflate state costs memory per connection.
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    // Text and binary frames both arrive as bytes; what the server writes goes out as binary frames.
    const duplex = createWebSocketStream(ws);
    server.handle(duplex, { remote: peerId(req), ...(req.socket.remoteAddress !== undefined ? { address: req.socket.remoteAddress } : {}) });
  });
  await listenDualStack(http, o.port, o.host);
  return {
    address: http.address() as AddressInfo,
    secure: o.tls !== undefined,
    close: () => new Promise<void>((resolve) => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      http.close(() => resolve());
      http.closeAllConnections();
    }),
  };
}
