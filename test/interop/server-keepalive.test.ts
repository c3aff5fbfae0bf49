// TCP keep-alive of accepted connections, read from the server's own socket (py/sockopts.py:
// pidfd_getfd + getsockopt): the real infinoted 0.7.2 turns it on with 60 s idle and a 5 s probe
// interval and leaves the probe count to the OS; tandemd (the bin, plain and after STARTTLS) has
// the same idle time, and the interval and count libuv sets with it (1 s, 10), which Node cannot
// change (packages/server/src/transport/tcp.ts).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PYTHON, requireRealLibinfinity, startInfinoted, type ServerUnderTest } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const run = promisify(execFile);
const SOCKOPTS = fileURLToPath(new URL('../../../test/interop/py/sockopts.py', import.meta.url));
const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';

interface SockOpts {
  pid: number;
  keepalive: number;
  idle: number;
  interval: number;
  count: number;
  nodelay: number;
}

const sysctl = (name: string): number => Number(readFileSync(join('/proc/sys/net/ipv4', name), 'utf8').trim());

/** The keep-alive options of the server's end of `client`'s connection to `port`. */
async function serverSide(port: number, client: Socket): Promise<SockOpts> {
  const { stdout } = await run(PYTHON, [SOCKOPTS, String(port), String(client.localPort)]);
  return JSON.parse(stdout) as SockOpts;
}

/** A connection that has sent the stream header and got the features (the server has accepted it). */
async function connected(port: number): Promise<{ socket: Socket; features: string }> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let got = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no stream features: ${got}`)), 15000);
    socket.on('connect', () => socket.write(HEADER));
    socket.on('data', (b: Buffer) => {
      got += b.toString('utf8');
      if (got.includes('</stream:features>')) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        resolve();
      }
    });
  });
  return { socket, features: got };
}

describe('TCP keep-alive of accepted connections (infinoted 0.7.2 and tandemd)', function () {
  this.timeout(60000);
  const servers: ServerUnderTest[] = [];
  const sockets: Socket[] = [];

  before(() => requireRealLibinfinity());
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('infinoted: SO_KEEPALIVE, 60 s idle, 5 s probe interval, the OS probe count', async () => {
    const s = await startInfinoted({ securityPolicy: 'no-tls' });
    servers.push(s);
    const { socket } = await connected(s.port);
    sockets.push(socket);
    const o = await serverSide(s.port, socket);
    expect({ keepalive: o.keepalive, idle: o.idle, interval: o.interval, count: o.count }).to.deep.equal({
      keepalive: 1, idle: 60, interval: 5, count: sysctl('tcp_keepalive_probes'),
    });
  });

  it('tandemd: SO_KEEPALIVE and 60 s idle like infinoted, TCP_NODELAY; libuv\'s 1 s interval and 10 probes', async () => {
    const s = await startTandemd({ securityPolicy: 'no-tls' });
    servers.push(s);
    const { socket } = await connected(s.port);
    sockets.push(socket);
    const o = await serverSide(s.port, socket);
    // uv_tcp_keepalive (libuv 1.46, Node 20) sets interval and count itself; Node has no way to
    // set infinoted's 5 s. If a Node upgrade changes these, tcp.ts's comment needs the new values.
    expect({ keepalive: o.keepalive, idle: o.idle, interval: o.interval, count: o.count, nodelay: o.nodelay }).to.deep.equal({
      keepalive: 1, idle: 60, interval: 1, count: 10, nodelay: 1,
    });
  });

  it('tandemd: the options stay on the socket after STARTTLS', async () => {
    const s = await startTandemd({ securityPolicy: 'require-tls' });
    servers.push(s);
    const { socket, features } = await connected(s.port);
    sockets.push(socket);
    expect(features).to.contain('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls>');
    socket.write('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const secure = tlsConnect({ socket, rejectUnauthorized: false });
    sockets.push(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    secure.write(HEADER);
    await new Promise<void>((resolve) => secure.once('data', () => resolve()));
    const o = await serverSide(s.port, socket);
    expect([o.keepalive, o.idle, o.nodelay]).to.deep.equal([1, 60, 1]);
  });
});
