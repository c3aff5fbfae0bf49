// The five scenarios of issue 7, each run once per server with identical settings. The
// orchestrator only starts processes, keeps time and reads /proc; all client work happens in the
// load workers (worker.mjs), each a separate process.
import { fork } from 'node:child_process';
import { Histogram, nowMs, sleep } from './stats.mjs';
import { startServer } from './servers.mjs';
import { gobbyOpens } from './gobby-subscribe.mjs';
import { rawSubscribe } from './raw-subscribe.mjs';

const WORKER = new URL('./worker.mjs', import.meta.url);
/** Every live load process, so that a scenario past its time limit can be torn down. */
const liveWorkers = new Set();

/** Kills every load process (the scenario's hard timeout; servers.mjs kills the servers). */
export function killWorkers() {
  for (const child of liveWorkers) child.kill('SIGKILL');
}

/** A load process and a promise-returning `call(cmd, args)` for it. */
async function startWorker(index, seed) {
  // --expose-gc: (c)'s subscriber collects before each timed open (worker.mjs, observe).
  const child = fork(WORKER, [], { execArgv: [...process.execArgv, '--expose-gc'], env: { ...process.env, BENCH_WORKER: String(index), BENCH_SEED: String(seed) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 0;
  let exitError;
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve({ ...m.result, workerMiB: m.memory });
    else p.reject(new Error(`worker ${index}: ${m.error}`));
  });
  liveWorkers.add(child);
  child.on('exit', (code, sig) => {
    liveWorkers.delete(child);
    exitError = new Error(`worker ${index} exited (code ${code}, signal ${sig})`);
    for (const p of pending.values()) p.reject(exitError);
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  });
  return {
    pid: child.pid,
    call(cmd, args) {
      if (exitError) return Promise.reject(exitError);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      });
    },
    async stop() {
      if (exitError) return;
      await this.call('close').catch(() => undefined);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Runs `fn(server, workers)` against a fresh server with `procs` load workers, then cleans up. */
async function withServer(kind, opts, procs, fn) {
  const server = await startServer(kind, { profileDir: opts.profile && kind === 'tandemd' ? opts.profile : undefined, settleMs: opts.smoke ? 2000 : 20000 });
  const workers = [];
  try {
    for (let i = 0; i < procs; i++) workers.push(await startWorker(i, opts.seed));
    return await fn(server, workers);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
  }
}

/**
 * Splits `names` round-robin over the workers and connects them, two at a time per worker:
 * infinoted listens with a backlog of 5 (infd-tcp-server.c), and 50 connects at once once cost
 * a connection reset at K = 80 (the accept queue overflowed, the handshake's last ACK was dropped).
 */
async function connectAll(server, workers, names, concurrency = 2) {
  await Promise.all(workers.map((w, i) => w.call('connect', {
    port: server.port, names: names.filter((_, j) => j % workers.length === i), concurrency,
  })));
}

const round = (v, d = 2) => (v === undefined || v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** d) / 10 ** d);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Types with every connected client, measuring the server over the window after the warm-up,
 * then waits for every insert to arrive everywhere and compares every text with a fresh
 * subscriber's (the server's text).
 */
async function typingRun(server, workers, path, { warmupMs, rampMs = 0, windowMs, mode, rate, batch, observersType = true, drainMs = 30000 }) {
  const startAt = nowMs() + 300;
  const typing = Promise.all(workers.map((w) => w.call('type', { startAt, warmupMs, rampMs, durationMs: warmupMs + windowMs, mode, rate, batch, observersType })));
  await sleep(startAt + warmupMs - nowMs());
  const cpu0 = server.cpu();
  const t0 = nowMs();
  await sleep(startAt + warmupMs + windowMs - nowMs());
  const cpu1 = server.cpu();
  const seconds = (nowMs() - t0) / 1000;
  const memory = server.memory();
  const typed = await typing;
  const totalInserts = typed.reduce((n, t) => n + t.inserts, 0);
  const drained = await Promise.all(workers.map((w) => w.call('drain', { totalInserts, timeoutMs: drainMs })));
  const undelivered = drained.reduce((n, d) => n + d.incomplete, 0);
  // A server that could not relay everything within the drain time has collapsed (its backlog
  // grows faster than it works it off); asking it for its text would only wait longer.
  const observed = undelivered > 0 ? { hash: 'none:0' } : await workers[0].call('observe', { port: server.port, path });
  const hashes = drained.flatMap((d) => d.hashes);
  const lightTypists = drained.reduce((n, d) => n + d.lightCount, 0);
  const serverLength = Number(observed.hash.split(':')[1]);
  const invalidRequests = drained.reduce((n, d) => n + d.invalidRequests, 0);
  const lightTroubles = drained.reduce((n, d) => n + d.lightTroubles, 0);
  const boundHeld = drained.every((d) => d.lightMaxBound === undefined || d.lightMaxBound <= serverLength);
  const edits = typed.reduce((n, t) => n + t.editsInWindow, 0);
  const serverCpu = cpu1 - cpu0;
  const loadCpu = typed.map((t) => t.cpuShare);
  // Paced typing that fell short of the offered rate means the load process could not keep up.
  const typists = lightTypists + (observersType ? hashes.length : 0);
  const shortOfRate = mode === 'paced' && edits / seconds < 0.8 * typists * rate;
  const latency = drained.reduce((h, d) => h.merge(new Histogram(d.histogram)), new Histogram()).summary();
  return {
    clients: hashes.length + lightTypists,
    typists,
    observers: hashes.length,
    lightTypists,
    windowSeconds: round(seconds),
    edits,
    editsPerSecond: round(edits / seconds, 1),
    latency,
    serverCpuSeconds: round(serverCpu, 3),
    serverCpuPer1000Edits: round((serverCpu / edits) * 1000, 3),
    // Under one clock tick of server CPU (a smoke run's short window) there is no rate to give.
    editsPerServerCpuSecond: serverCpu > 0 ? round(edits / serverCpu, 0) : null,
    serverCpuShare: round(serverCpu / seconds),
    serverRssMiB: round(memory.rss, 1),
    serverPeakRssMiB: round(memory.peak, 1),
    loadCpuShare: loadCpu.map((c) => round(c)),
    loadLimited: loadCpu.some((c) => c > 0.85) || shortOfRate,
    undelivered,
    invalidRequests,
    serverTextLength: serverLength,
    // How long after the window's end the load process stopped typing (it was saturated if large).
    typingOverrunMs: round(Math.max(...typed.map((t) => t.lateMs)), 0),
    // Full clients: the server's text. Light typists: every insert received, no invalid-request,
    // their length bound never above the server's length, no session lost.
    converged: drained.every((d) => d.incomplete === 0) && hashes.every((h) => h === observed.hash) &&
      invalidRequests === 0 && lightTroubles === 0 && boundHeld,
  };
}

/** One row of (a): K light typists and the watchers on one document of a fresh `kind` server. */
async function typingRowA(kind, K, opts, log) {
  // The warm-up lasts until about opts.warmupEdits edits have been typed (at least opts.warmupMs):
  // a server that has run for a while, whose JIT has compiled the request path, not one that has
  // seen a few dozen requests (tandemd at K = 5: 1.04 CPU s per 1,000 edits after 2 s, 0.6 after 40 s).
  const warmupMs = Math.max(opts.warmupMs, Math.round((opts.warmupEdits / (K * 5)) * 1000));
  const row = await withServer(kind, opts, opts.procs, async (server, workers) => {
    await workers[0].call('put', { port: server.port, path: '/a', size: 2000 });
    // K light typists (light.mjs) and a few full clients that only watch: a full client
    // that types and falls behind makes its requests concurrent with everything it has not
    // processed yet, which loads the server with transformations no real editor would cause.
    const observers = Array.from({ length: opts.observers }, (_, i) => `watcher${i}`);
    await connectAll(server, workers, [...observers, ...Array.from({ length: K }, (_, i) => `u${i}`)]);
    log(`(a) ${kind} K=${K}: connected`);
    const opened = await Promise.all(workers.map((w) => w.call('open', { paths: ['/a'], join: true, observers })));
    const failed = opened.reduce((n, o) => n + o.failed, 0);
    log(`(a) ${kind} K=${K}: joined`);
    if (failed) throw new Error(`(a) ${failed} of ${K} clients could not join on ${kind}: ${opened.find((o) => o.firstError)?.firstError}`);
    return typingRun(server, workers, '/a', { warmupMs, rampMs: opts.rampMs, windowMs: opts.windowMs, mode: 'paced', rate: 5, observersType: false });
  });
  log(`(a) ${kind} K=${K}: ${row.editsPerSecond} edits/s, p50/p95/p99 ${row.latency.p50}/${row.latency.p95}/${row.latency.p99} ms, ` +
    `${row.serverCpuPer1000Edits} server CPU s/1000 edits, RSS ${row.serverRssMiB} MiB, load CPU ${row.loadCpuShare}, converged ${row.converged}`);
  return { server: kind, K, warmupMs, ...row };
}

/** (a) K clients typing 5 edits/s each, K escalating until p95 passes 100 ms or time runs out. */
export async function scenarioA(opts, log, rows = []) {
  const done = new Set();
  const deadline = Date.now() + opts.capA * 1000;
  for (const K of opts.ks) {
    for (const kind of opts.servers) {
      if (done.has(kind)) continue;
      if (Date.now() > deadline) { log(`(a) time cap reached before K=${K} on ${kind}`); done.add(kind); continue; }
      // A row that fails (a connection reset while K clients connect, say) ends the escalation
      // of that server only; the other goes on.
      const row = await typingRowA(kind, K, opts, log).catch((error) => ({ server: kind, K, error: error.message.split('\n')[0] }));
      rows.push(row);
      if (row.error) { log(`(a) ${kind} K=${K}: failed: ${row.error}`); done.add(kind); continue; }
      // Past 100 ms, or past what one load process can emulate, a larger K says nothing more.
      if (!(row.latency.p95 <= 100) || row.undelivered > 0 || row.loadLimited) done.add(kind);
    }
    if (opts.servers.every((k) => done.has(k))) break;
  }
  return rows;
}

/**
 * (h) Head to head at one K (the issue's 50): (a)'s row for each server in turn, `opts.pairs`
 * times, so that both servers meet the machine in the same state; the rows carry their pair.
 */
export async function scenarioH(opts, log, rows = []) {
  for (let pair = 1; pair <= opts.pairs; pair++) {
    for (const kind of opts.servers) {
      const row = await typingRowA(kind, opts.pairK, opts, (line) => log(line.replace('(a)', `(h) pair ${pair}`)));
      rows.push({ pair, ...row });
    }
  }
  return rows;
}

/** (b) 20 clients sending batches as fast as the server acknowledges them. */
export async function scenarioB(opts, log, rows = []) {
  for (const kind of opts.servers) {
    const row = await withServer(kind, opts, opts.procs, async (server, workers) => {
      await workers[0].call('put', { port: server.port, path: '/b', size: 2000 });
      // 20 light typists flood; one full client only watches (its text is checked at the end).
      await connectAll(server, workers, [...Array.from({ length: 20 }, (_, i) => `f${i}`), 'watcher']);
      const opened = await Promise.all(workers.map((w) => w.call('open', { paths: ['/b'], join: true, observers: ['watcher'] })));
      const failed = opened.reduce((n, o) => n + o.failed, 0);
      if (failed) throw new Error(`(b) ${failed} clients could not join on ${kind}: ${opened.find((o) => o.firstError)?.firstError}`);
      return typingRun(server, workers, '/b', { warmupMs: opts.warmupMs, windowMs: opts.windowMs, mode: 'flood', batch: opts.batchB, observersType: false, drainMs: 90000 });
    });
    rows.push({ server: kind, ...row });
    log(`(b) ${kind}: ${row.editsPerSecond} edits/s, ${row.serverCpuPer1000Edits} server CPU s/1000 edits, server CPU ${row.serverCpuShare}, load CPU ${row.loadCpuShare}, converged ${row.converged}`);
  }
  return rows;
}

/** Subscriptions per document in (c), each figure the median (the first also pays start-up: a cold client, the server's first serialisation). */
const SUBSCRIBES = 5;
/**
 * Client-side opens before those: the client is the same program for both servers, and while its
 * JIT is still compiling the synchronisation path it adds the same cost to both figures. Two were
 * not enough: in one series a 1 MiB open cost the client 37-46 ms of CPU on its 2nd to 7th opens,
 * 12-42 ms on the 8th to 13th and 11-18 ms on the 14th to 20th (BENCH_SERIES=1 node
 * bench/server/client-open.mjs --size 1048576 --opens 20, 2026-12-03 23:00); the measured opens
 * are the 10th to 14th. The first (cold) open is kept as a column of its own.
 */
const WARM_OPENS = 9;

/** SUBSCRIBES + WARM_OPENS opens of `path` by one fresh client: the cold first and the measured rest. */
async function clientOpens(w, port, path) {
  const { times } = await w.call('observe', { port, path, repeat: WARM_OPENS + SUBSCRIBES });
  const measured = times.slice(WARM_OPENS);
  return { subscribeMs: round(median(measured), 1), times: measured.map((t) => round(t, 1)), firstMs: round(times[0], 1), warmOpens: WARM_OPENS };
}

/** The server's side of SUBSCRIBES subscriptions (bench/server/raw-subscribe.mjs): median ms and bytes sent. */
async function rawTimes(port, name) {
  const runs = [];
  for (let i = 0; i < SUBSCRIBES; i++) runs.push(await rawSubscribe(port, name));
  return { serverMs: round(median(runs.map((r) => r.ms)), 1), serverTimes: runs.map((r) => round(r.ms, 1)), syncMiB: round(runs[0].bytes / 2 ** 20, 2) };
}

/**
 * A document was just built: the server may still be busy with it (tandemd collects the upload's
 * garbage and saves the document its journal asked for; infinoted does it all before it reads on).
 * Subscribers are timed against a server that has settled, as a document people open later is.
 */
const settled = (server, opts) => server.settle(opts.smoke ? 2000 : 20000);

/**
 * SUBSCRIBES opens by the real libinfinity client (Gobby's library), each a fresh process: median
 * ms and the text's hash. Without python3-gi and the Infinity 0.7 typelibs the columns stay empty.
 */
async function gobbyTimes(port, path, opts, log) {
  try {
    const r = await gobbyOpens(port, path, opts.smoke ? 1 : SUBSCRIBES);
    return { gobbyMs: round(median(r.times), 1), gobbyTimes: r.times.map((t) => round(t, 1)), gobbyText: `${r.length}:${r.sha256.slice(0, 16)}` };
  } catch (err) {
    log(`(c) libinfinity client: ${err.message.split('\n')[0]}`);
    return {};
  }
}

/** (c) Subscribe time (median of SUBSCRIBES fresh subscriptions) for big documents and a long history. */
export async function scenarioC(opts, log, rows = []) {
  for (const kind of opts.servers) {
    await withServer(kind, opts, 1, async (server, [w]) => {
      for (const size of opts.sizes) {
        const path = `/c${size}`;
        const t0 = nowMs();
        await w.call('put', { port: server.port, path, size });
        const buildSeconds = (nowMs() - t0) / 1000;
        await settled(server, opts);
        const opens = await clientOpens(w, server.port, path);
        const raw = await rawTimes(server.port, path.slice(1));
        const gobby = await gobbyTimes(server.port, path, opts, log);
        const row = { server: kind, document: `${round(size / 2 ** 20, 1)} MiB text`, buildSeconds: round(buildSeconds), ...gobby, ...opens, ...raw, serverRssMiB: round(server.memory().rss, 1) };
        rows.push(row);
        log(`(c) ${kind} ${row.document}: libinfinity client ${row.gobbyMs} ms (${row.gobbyTimes}; text ${row.gobbyText}), @tandem/client ${row.subscribeMs} ms (${row.times}; cold ${row.firstMs}), server side ${row.serverMs} ms (${row.serverTimes}), ${row.syncMiB} MiB`);
      }
    });
  }
  for (const kind of opts.servers) {
    await withServer(kind, opts, 1, async (server, [w]) => {
      // One writer: requests with no concurrency, so building the history costs little.
      const writers = 1;
      // The uploader leaves: a joined user that never sends keeps either server from cleaning
      // the log until its client's 30 s no-op, which made the row depend on timing.
      await w.call('put', { port: server.port, path: '/h', size: 2000, keep: false });
      await w.call('connect', { port: server.port, names: Array.from({ length: writers }, (_, i) => `h${i}`) });
      await w.call('open', { paths: ['/h'], join: true, observers: [] });
      const t0 = nowMs();
      const typed = await w.call('type', { startAt: nowMs(), durationMs: 3600000, mode: 'flood', batch: 100, maxEdits: opts.history / writers });
      await w.call('drain', { totalInserts: typed.inserts });
      const buildSeconds = (nowMs() - t0) / 1000;
      await settled(server, opts);
      const opens = await clientOpens(w, server.port, '/h');
      const raw = await rawTimes(server.port, 'h');
      const gobby = await gobbyTimes(server.port, '/h', opts, log);
      const row = { server: kind, document: `${opts.history.toLocaleString('en')}-request history`, buildSeconds: round(buildSeconds), ...gobby, ...opens, ...raw, serverRssMiB: round(server.memory().rss, 1) };
      rows.push(row);
      log(`(c) ${kind} ${row.document} (built in ${row.buildSeconds} s): libinfinity client ${row.gobbyMs} ms (${row.gobbyTimes}; text ${row.gobbyText}), @tandem/client ${row.subscribeMs} ms (${row.times}; cold ${row.firstMs}), server side ${row.serverMs} ms (${row.serverTimes}), ${row.syncMiB} MiB`);
    });
  }
  return rows;
}

/** (d) 128 clients subscribing and joining one document at the same moment. */
export async function scenarioD(opts, log, rows = []) {
  const n = opts.massJoin;
  for (const kind of opts.servers) {
    const row = await withServer(kind, opts, 1, async (server, [w]) => {
      await w.call('put', { port: server.port, path: '/d', size: 10000 });
      await w.call('connect', { port: server.port, names: Array.from({ length: n }, (_, i) => `m${i}`) });
      const opened = await w.call('open', { paths: ['/d'], join: true, concurrency: n });
      const state = await w.call('state');
      const observed = await w.call('observe', { port: server.port, path: '/d' });
      return {
        clients: n,
        failed: opened.failed,
        lastReadyMs: round(opened.ms, 1),
        // Every client sees all 128 joiners plus the uploader present.
        allSynced: opened.failed === 0 && state.hashes.every((h) => h === observed.hash) && state.present.every((p) => p === n + 1),
        serverRssMiB: round(server.memory().rss, 1),
      };
    });
    rows.push({ server: kind, ...row });
    log(`(d) ${kind}: last of ${n} ready after ${row.lastReadyMs} ms, all synced ${row.allSynced}`);
  }
  return rows;
}

/** (e) 1,000 idle connections, each subscribed to and joined in one of 100 documents. */
export async function scenarioE(opts, log, rows = []) {
  const docs = opts.documents;
  for (const kind of opts.servers) {
    const row = await withServer(kind, opts, 1, async (server, [w]) => {
      for (let i = 0; i < docs; i++) await w.call('put', { port: server.port, path: `/e${i}`, size: 1000, keep: false });
      await sleep(500);
      const before = server.memory();
      // In two halves: the second half's growth is the cost of a connection, without what the
      // first connections cost once (a garbage-collected heap grows its young generation).
      const half = Math.floor(opts.idle / 2);
      const names = Array.from({ length: opts.idle }, (_, i) => `i${i}`);
      const paths = Array.from({ length: docs }, (_, i) => `/e${i}`);
      await w.call('connect', { port: server.port, names: names.slice(0, half) });
      const first = await w.call('open', { paths, join: true });
      await sleep(2000);
      const mid = server.memory();
      await w.call('connect', { port: server.port, names: names.slice(half) });
      const opened = await w.call('open', { paths, join: true });
      await sleep(2000);
      const after = server.memory();
      return {
        connections: opts.idle,
        documents: docs,
        failed: first.failed + opened.failed,
        rssBeforeMiB: round(before.rss, 1),
        rssMidMiB: round(mid.rss, 1),
        rssAfterMiB: round(after.rss, 1),
        kibPerConnection: round(((after.rss - before.rss) * 1024) / opts.idle, 1),
        kibPerConnectionSecondHalf: round(((after.rss - mid.rss) * 1024) / (opts.idle - half), 1),
        loadRssMiB: round(opened.workerMiB, 1),
      };
    });
    rows.push({ server: kind, ...row });
    log(`(e) ${kind}: RSS ${row.rssBeforeMiB} -> ${row.rssMidMiB} -> ${row.rssAfterMiB} MiB for ${opts.idle} connections (${row.kibPerConnection} KiB each, the second half ${row.kibPerConnectionSecondHalf}), ${row.failed} failed`);
  }
  return rows;
}
