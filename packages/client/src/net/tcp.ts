// The TCP transport, with STARTTLS turning the same socket into TLS. Node only: the client loads
// this module (node:net, node:tls) when it connects over TCP, never in a browser.
import net from 'node:net';
import tls from 'node:tls';
import { ClientError } from '../errors.js';
import type { Transport, TransportHandlers } from './transport.js';

/** libinfinity's transport is TCP with keep-alive and no Nagle delay (inf-tcp-connection.c). */
export function connectTcp(host: string, port: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.removeAllListeners('error');
      s.setKeepAlive(true, 60000);
      s.setNoDelay(true);
      resolve(new TcpTransport(s, host, port));
    });
    s.once('error', (err) => reject(new ClientError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${err.message}`)));
  });
}

class TcpTransport implements Transport {
  private handlers: TransportHandlers | undefined;
  readonly canStartTls = true;

  constructor(
    private socket: net.Socket,
    private readonly host: string,
    private readonly port: number,
  ) {}

  get description(): string {
    return `${this.host}:${this.port}`;
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.attach(this.socket);
  }

  private attach(socket: net.Socket): void {
    let failure: Error | undefined;
    // What one event-loop turn reads (up to 32 reads of 64 KiB in a burst) goes to the parser as
    // one chunk at the end of the turn: decoded at once, a big synchronisation becomes a few large
    // strings (external, from 1 MiB on) instead of many 64 KiB ones that every young-generation
    // collection copies while they wait for the synchronisation to end.
    let pending: Buffer[] = [];
    let scheduled = false;
    const deliver = (): void => {
      scheduled = false;
      if (pending.length === 0) return;
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      this.handlers?.data(chunk);
    };
    socket.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(deliver);
      }
    });
    socket.on('error', (err) => {
      failure = new ClientError('CONNECT_FAILED', `connection to ${this.description} failed: ${err.message}`);
    });
    socket.on('close', () => {
      deliver();
      this.handlers?.close(failure);
    });
  }

  write(data: string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async startTls(): Promise<string> {
    const plain = this.socket;
    // The TLS layer reads the socket from now on; nothing more belongs to the plain stream.
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    // Servers run self-signed certificates: pinning (trust on first use) replaces CA checks.
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, servername: net.isIP(this.host) ? undefined : this.host });
    this.socket = secure;
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', (err) => reject(new ClientError('CONNECT_FAILED', `TLS handshake with ${this.description} failed: ${err.message}`)));
    });
    secure.removeAllListeners('error');
    this.attach(secure);
    const cert = secure.getPeerCertificate();
    if (!cert || !cert.fingerprint256) throw new ClientError('PROTOCOL', 'the server presented no certificate');
    return 'SHA256:' + cert.fingerprint256;
  }
}
