#!/usr/bin/env node
// The client's share of a subscription: how long `@tandem/client` needs to open a big document
// (synchronisation parsed, request logs rebuilt, text ready), and how much CPU of its own that
// takes, against a settled server that already holds the document (uploaded by another process,
// so the opening process holds nothing else unless --ballast asks for it). Also reports the
// upload's time (process start included) and the server CPU it cost.
// With --history N the document is instead (c)'s long-edited one: a 2,000-character text and N
// edits typed by one writer in batches of 100 (the server keeps about 2,048 of them).
//   node bench/server/client-open.mjs [--server tandemd|infinoted] [--size BYTES | --history N] [--opens N] [--ballast]
// Prints the median over the opens after the first (which pays the JIT's warm-up) as one JSON line.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connect } from '@tandem/client';
import { startServer } from './servers.mjs';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'tandemd' },
    size: { type: 'string', default: String(10 * 2 ** 20) },
    opens: { type: 'string', default: '15' },
    ballast: { type: 'boolean', default: false },
    history: { type: 'string' },
    child: { type: 'string' },
  },
});

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const round = (x) => Math.round(x * 10) / 10;

if (values.child) {
  // The uploading process: the same text as scenario (c)'s `put`.
  const worker = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [], { stdio: 'inherit' });
  const call = (method, params) => new Promise((resolve, reject) => {
    const on = (m) => {
      if (m.id !== 1) return; // the worker's "ready"
      worker.off('message', on);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    };
    worker.on('message', on);
    worker.send({ id: 1, cmd: method, args: params });
  });
  const port = Number(values.child);
  if (values.history) {
    await call('put', { port, path: '/open', size: 2000, keep: false });
    await call('connect', { port, names: ['h0'] });
    await call('open', { paths: ['/open'], join: true, observers: [] });
    const typed = await call('type', { startAt: performance.timeOrigin + performance.now(), durationMs: 3600000, mode: 'flood', batch: 100, maxEdits: Number(values.history) });
    await call('drain', { totalInserts: typed.inserts });
  } else await call('put', { port, path: '/open', size: Number(values.size), keep: false });
  worker.kill();
  process.exit(0);
}

const server = await startServer(values.server, { settleMs: 5000 });
try {
  const cpu0 = server.cpu();
  const t0 = performance.now();
  const up = fork(fileURLToPath(import.meta.url), ['--child', String(server.port), '--size', values.size, ...(values.history ? ['--history', values.history] : [])], { stdio: 'inherit' });
  await new Promise((resolve, reject) => up.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`upload failed (${code})`)))));
  // The upload (the same as (c)'s put, in a process of its own) and the server CPU it cost,
  // including the saves a growing journal asks for.
  const upload = { uploadMs: round(performance.now() - t0), uploadServerCpuS: round(server.cpu() - cpu0) };
  // A heap like the benchmark worker's in (c), where the uploader's documents share the process.
  globalThis.ballast = values.ballast ? Array.from({ length: Math.ceil(Number(values.size) / 4096) }, (_, i) => `${i} `.padEnd(8192, 'ballast ')) : [];
  const client = await connect({ host: '127.0.0.1', port: server.port, tls: false, user: 'opener', timeoutMs: 600000 });
  const wall = [];
  const cpu = [];
  let length = 0;
  for (let i = 0; i < Number(values.opens); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const doc = await client.open('/open');
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
    length = doc.text.length;
    doc.close();
    await client.flush();
  }
  await client.close();
  console.log(JSON.stringify({
    server: values.server, ...(values.history ? { history: Number(values.history) } : { size: Number(values.size) }), length, opens: wall.length,
    openMs: round(median(wall.slice(1))), clientCpuMs: round(median(cpu.slice(1))),
    firstOpenMs: round(wall[0]), ...(process.env.BENCH_SERIES ? { wall: wall.map(round), cpu: cpu.map(round) } : {}), ballast: values.ballast, ...upload,
  }));
} finally {
  await server.stop();
}
