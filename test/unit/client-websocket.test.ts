// The WebSocket transport: tandemd's --ws-port listener and connect({ url }) in the client.
import { expect } from 'chai';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { connect, type TandemClient } from '@tandem/client';
import { type InProcessTandemd, seededRandom, startInProcessTandemd, testSeed, until } from './client-tandemd.js';

describe('client over WebSocket on an in-process tandemd', () => {
  let tandemd: InProcessTandemd;
  let clients: TandemClient[];

  beforeEach(async () => {
    tandemd = await startInProcessTandemd({ webSocket: true });
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await tandemd.close();
  });

  async function overWebSocket(user: string): Promise<TandemClient> {
    const c = await connect({ url: tandemd.url!, user, timeoutMs: 10000 });
    clients.push(c);
    return c;
  }

  async function overTcp(user: string): Promise<TandemClient> {
    const c = await connect({ host: '127.0.0.1', port: tandemd.port, tls: false, user, timeoutMs: 10000 });
    clients.push(c);
    return c;
  }

  it('browses and creates documents over a WebSocket like over TCP', async () => {
    const ws = await overWebSocket('web');
    expect(ws.security.tls).to.equal(false);
    await ws.mkdir('/notes');
    await ws.create('/notes/a');
    const tcp = await overTcp('native');
    expect((await tcp.browse('/notes')).map((n) => n.path)).to.deep.equal(['/notes/a']);
  });

  it('lets a WebSocket client and a TCP client edit one document concurrently and converge', async () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const web = await (await overWebSocket('web')).open('/doc', { user: 'web', create: true });
    const native = await (await overTcp('native')).open('/doc', { user: 'native' });
    await web.insert(0, 'start 😀 ');
    await until(() => native.text === 'start 😀 ', native, 'change');
    const alphabet = ['a', 'b', 'ß', '🎉', '\u0301', ' '];
    for (let round = 0; round < 10; round++) {
      const jobs: Promise<void>[] = [];
      for (const doc of [web, native]) {
        for (let k = 0; k < 1 + rand(3); k++) {
          const len = doc.text.length;
          if (len > 0 && rand(3) === 0) {
            const index = rand(len);
            jobs.push(doc.delete(index, Math.min(1 + rand(2), len - index)));
          } else {
            jobs.push(doc.insert(rand(len + 1), alphabet[rand(alphabet.length)]!.repeat(1 + rand(2))));
          }
        }
      }
      await Promise.all(jobs);
    }
    await Promise.all([web.flush(), native.flush()]);
    await until(() => web.text === native.text, web, 'change').catch(() => until(() => web.text === native.text, native, 'change'));
    expect(web.text, `seed ${seed}`).to.equal(native.text);
    const reader = await (await overTcp('reader')).open('/doc');
    expect(reader.text, `seed ${seed}`).to.equal(web.text);
    expect(new Set(reader.segments().map((s) => s.author?.name))).to.include.members(['web', 'native']);
  });

  it('accepts the stream in text frames split anywhere and answers in binary frames', async () => {
    const socket = new WebSocket(tandemd.url!);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const received: { binary: boolean; text: string }[] = [];
    socket.on('message', (data: Buffer, isBinary: boolean) => received.push({ binary: isBinary, text: data.toString('utf8') }));
    const header = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="web">';
    // Frame boundaries inside a tag must not matter (they are like TCP segments).
    for (const part of [header.slice(0, 10), header.slice(10, 57), header.slice(57)]) socket.send(part);
    const features = (): string => received.map((r) => r.text).join('');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no features, got ${features()}`)), 10000);
      const check = (): void => {
        if (!features().includes('</stream:features>')) return;
        clearTimeout(timer);
        socket.off('message', check);
        resolve();
      };
      socket.on('message', check);
      check();
    });
    expect(features()).to.match(/^<stream:stream [^>]*from="test"/);
    // A transport without TLS never offers STARTTLS; SASL ANONYMOUS is offered as over TCP.
    expect(features()).to.not.include('starttls');
    expect(features()).to.include('<mechanism>ANONYMOUS</mechanism>');
    expect(received.every((r) => r.binary)).to.equal(true);
    socket.terminate();
  });

  it('answers a plain HTTP request on the WebSocket port with 426 Upgrade Required', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(tandemd.url!.replace('ws:', 'http:'), (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject).end();
    });
    expect(status).to.equal(426);
  });

  it('refuses a URL that is not ws:// or wss:// with a clear error', async () => {
    let error: unknown;
    try {
      await connect({ url: `http://127.0.0.1:${tandemd.port}` });
    } catch (err) {
      error = err;
    }
    expect(error).to.have.property('code', 'CONNECT_FAILED');
    expect((error as Error).message).to.match(/not a ws:\/\/ or wss:\/\/ URL/);
  });
});
