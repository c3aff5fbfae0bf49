/**
 * TCP and TLS-over-STARTTLS transport. The only module that knows node:net and node:tls.
 * Like infinoted (infinoted-startup.c): one dual-stack IPv6 socket unless an address is given,
 * TCP keep-alive after 60 s idle, and TCP_NODELAY, without which every request/reply exchange
 * waits for the peer's delayed ACK (~40 ms).
 */
import { X509Certificate } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, createServer as createNetServer } from 'node:net';
import { type SecureContext, TLSSocket, createSecureContext } from 'node:tls';
import type { TandemServer } from '../server.js';
import { listenDualStack } from './listen.js';

export interface TcpOptions {
  port: number;
  /** Default: '::' (dual stack), falling back to 0.0.0.0 where IPv6 is unavailable. */
  host?: string;
  /** PEM key and certificate chain; without them STARTTLS is not offered. */
  tls?: {
    key: string;
    cert: string;
    /** certificate-auth: client certificates are requested and verified against these CAs. */
    clientCa?: string[];
    /** With clientCa: whether a client without a certificate may connect. */
    acceptUnauthenticated?: boolean;
  };
}

export interface TcpListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * TCP keep-alive as infinoted 0.7.2 sets it on accepted sockets (infinoted-startup.c, applied by
 * inf_keepalive_apply): SO_KEEPALIVE on, TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 5 s; it leaves
 * TCP_KEEPCNT to the OS (net.ipv4.tcp_keepalive_probes, 9 on Linux). Node can only give the idle
 * time: socket.setKeepAlive(true, ms) is uv_tcp_keepalive, which sets SO_KEEPALIVE and
 * TCP_KEEPIDLE and then its own TCP_KEEPINTVL 1 s and TCP_KEEPCNT 10 (libuv 1.46, Node 20), and
 * Node has no per-socket setsockopt to put 5 s and the OS count back. So a silent peer is
 * dropped 60 s + 10 x 1 s after the last traffic here, 60 s + 9 x 5 s by infinoted. Measured on
 * both servers' sockets in test/interop/server-keepalive.test.ts.
 */
const KEEPALIVE_IDLE_MS = 60_000;

function peerId(socket: Socket): string {
  const a = socket.remoteAddress ?? '?';
  return a.includes(':') ? `[${a}]:${socket.remotePort}` : `${a}:${socket.remotePort}`;
}

/**
 * A client certificate issued (and signed) by one of the CAs and valid now. A TLSSocket made
 * from a plain socket does not run Node's own peer verification, so it is done here.
 */
function verifiedByCa(peer: X509Certificate, cas: readonly X509Certificate[]): boolean {
  const now = Date.now();
  if (now < Date.parse(peer.validFrom) || now > Date.parse(peer.validTo)) return false;
  return cas.some((ca) => peer.checkIssued(ca) && peer.verify(ca.publicKey));
}

function startTls(socket: Socket, context: SecureContext, clientAuth?: { cas: X509Certificate[]; acceptUnauthenticated: boolean }): () => Promise<TLSSocket> {
  return () => new Promise((resolve, reject) => {
    // The same socket becomes the TLS server end (RFC 6120 §5.4.3.3: no new connection).
    // With certificate-auth the client is asked for a certificate; the check is ours (below).
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context, requestCert: clientAuth !== undefined, rejectUnauthorized: false });
    const fail = (err: Error): void => {
      secure.destroy();
      reject(err);
    };
    secure.once('secure', () => {
      secure.off('error', fail);
      if (clientAuth) {
        // infinoted_plugin_certificate_auth_certificate_func: a presented certificate must verify
        // against the CA list; no certificate is fine only with accept-unauthenticated-clients.
        const peer = secure.getPeerX509Certificate();
        const ok = peer ? verifiedByCa(peer, clientAuth.cas) : clientAuth.acceptUnauthenticated;
        if (!ok) {
          fail(new Error(peer ? `Client certificate "${peer.subject}" is not signed by a configured CA or not valid now` : 'Client did not present a certificate'));
          return;
        }
        // What `authorized` means for tls.Server sockets; Connection.peerCertificate relies on it.
        secure.authorized = peer !== undefined;
      }
      resolve(secure);
    });
    secure.once('error', fail);
  });
}

export async function listenTcp(server: TandemServer, o: TcpOptions): Promise<TcpListener> {
  const context = o.tls ? createSecureContext({ key: o.tls.key, cert: o.tls.cert, ...(o.tls.clientCa ? { ca: o.tls.clientCa } : {}) }) : undefined;
  const clientAuth = o.tls?.clientCa ? { cas: o.tls.clientCa.map((pem) => new X509Certificate(pem)), acceptUnauthenticated: o.tls.acceptUnauthenticated === true } : undefined;
  const sockets = new Set<Socket>();
  const net: Server = createNetServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_IDLE_MS }, (socket) => {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_IDLE_MS);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.handle(socket, {
      remote: peerId(socket),
      ...(socket.remoteAddress !== undefined ? { address: socket.remoteAddress } : {}),
      ...(context ? { startTls: startTls(socket, context, clientAuth) } : {}),
    });
  });
  await listenDualStack(net, o.port, o.host);
  return {
    address: net.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      net.close(() => resolve());
    }),
  };
}
