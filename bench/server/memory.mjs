#!/usr/bin/env node
// Memory per idle connection of tandemd with the garbage collected: scenario (e) reads the
// server's RSS from outside, which for a garbage-collected runtime includes garbage not yet
// collected and young-generation space. This probe runs tandemd in this process
// (node --expose-gc), loads it with the same worker as (e) (N connections, each subscribed to and
// joined in one of 100 documents of 1,000 characters), collects garbage, and reports RSS and heap
// per connection. `node --expose-gc bench/server/memory.mjs [N]`; prints one JSON line.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FilesystemStorage, createServer, listenTcp } from '@tandem/server';

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
const N = Number(process.argv[2] ?? 1000);
const DOCS = 100;
const root = mkdtempSync(join(tmpdir(), 'bench-memory-'));
const server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'bench', log: () => {} });
const tcp = await listenTcp(server, { port: 0, host: '127.0.0.1' });
const port = tcp.address.port;
const worker = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [], { stdio: 'inherit' });
let next = 0;
const waiting = new Map();
worker.on('message', (m) => {
  if (m.id === undefined) return;
  const [resolve, reject] = waiting.get(m.id);
  waiting.delete(m.id);
  if (m.ok) resolve(m.result);
  else reject(new Error(m.error));
});
await new Promise((r) => worker.once('message', r));
const call = (cmd, args) => new Promise((resolve, reject) => {
  const id = next++;
  waiting.set(id, [resolve, reject]);
  worker.send({ id, cmd, args });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const snapshot = () => {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
};
for (let i = 0; i < DOCS; i++) await call('put', { port, path: `/e${i}`, size: 1000, keep: false });
await sleep(500);
const before = snapshot();
await call('connect', { port, names: Array.from({ length: N }, (_, i) => `i${i}`) });
const opened = await call('open', { paths: Array.from({ length: DOCS }, (_, i) => `/e${i}`), join: true });
await sleep(1000);
const after = snapshot();
const kib = (k) => Math.round(((after[k] - before[k]) / 1024 / N) * 10) / 10;
console.log(JSON.stringify({ connections: N, documents: DOCS, failed: opened.failed, rssKiBPerConnection: kib('rss'), heapKiBPerConnection: kib('heap') }));
worker.kill();
await tcp.close();
await server.close();
rmSync(root, { recursive: true, force: true });
process.exit(0);
