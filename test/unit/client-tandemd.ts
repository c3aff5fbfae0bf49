// An in-process tandemd for client tests: createServer on a temporary root, TCP (and optionally
// WebSocket) on 127.0.0.1 with port 0, no TLS. The client package itself never imports the
// server; only these cross-package tests put the two together.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStorage, createServer, listenTcp, listenWebSocket, plain, type TandemServer } from '@tandem/server';

export interface InProcessTandemd {
  server: TandemServer;
  port: number;
  /** ws://127.0.0.1:PORT when started with `webSocket`. */
  url: string | undefined;
  close(): Promise<void>;
}

/** `password`: SASL PLAIN with that password only, as tandemd --password. */
export async function startInProcessTandemd(options: { webSocket?: boolean; password?: string } = {}): Promise<InProcessTandemd> {
  const root = await mkdtemp(join(tmpdir(), 'tandem-client-test-'));
  const server = await createServer({
    storage: new FilesystemStorage(root),
    securityPolicy: 'no-tls',
    hostName: 'test',
    ...(options.password !== undefined ? { auth: plain({ password: options.password }) } : {}),
  });
  const tcp = await listenTcp(server, { port: 0, host: '127.0.0.1' });
  const ws = options.webSocket ? await listenWebSocket(server, { port: 0, host: '127.0.0.1' }) : undefined;
  return {
    server,
    port: tcp.address.port,
    url: ws ? `ws://127.0.0.1:${ws.address.port}` : undefined,
    async close() {
      await ws?.close();
      await tcp.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Seeded PRNG (mulberry32): the same seed replays the same edits. */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** The seed from TANDEM_SEED or a fresh one, printed so a failure can be replayed. */
export function testSeed(): number {
  const seed = process.env.TANDEM_SEED ? Number(process.env.TANDEM_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`      seed ${seed} (TANDEM_SEED=${seed} to repeat)`);
  return seed;
}

/** Resolves once `check()` holds, re-checking whenever `emitter` emits `event`; rejects after `ms`. */
export function until(check: () => boolean, emitter: { on(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown }, event: string, ms = 10000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`condition not reached within ${ms / 1000} s`));
    }, ms);
    const listener = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve();
    };
    emitter.on(event, listener);
  });
}
