// A load process: many @tandem/client connections driven by commands from the orchestrator
// (run.mjs) over the IPC channel. It runs apart from the server and from the orchestrator so
// that its CPU can be measured and never counts as the server's.
import { connect } from '@tandem/client';
import { LightTypist } from './light.mjs';
import { Histogram, nowMs, sleep, tagAge, textHash, timeTag } from './stats.mjs';

/** mulberry32: a small seeded generator, so a run's edit sequence can be repeated. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seed = Number(process.env.BENCH_SEED ?? 1) + Number(process.env.BENCH_WORKER ?? 0) * 7919;
const rand = random(seed);

/**
 * Full clients (observers: the whole @tandem/client with its engine) and light typists
 * (light.mjs: no engine). `remote` counts relayed inserts received, `own` inserts sent.
 * @type {{ name: string, client: import('@tandem/client').TandemClient, doc?: import('@tandem/client').TextDocument, light?: LightTypist, invalid: number, own: number, remote: number }[]}
 */
let clients = [];
/** Connections that only keep a document loaded (the uploader of `put`); they never type. */
let kept = [];
let histogram = new Histogram();
let windowStart = Infinity;
let stopTyping = false;

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

/** A relayed insert arrived: count it and time it if it carries a tag sent in the window. */
function arrived(c, text) {
  c.remote++;
  const now = nowMs();
  const age = tagAge(text, now);
  if (age !== undefined && now - age >= windowStart) histogram.add(age);
}

function watch(c) {
  c.doc.on('change', (ch) => {
    if (!ch.local && ch.kind === 'insert') arrived(c, ch.text);
  });
  // The client ignores <invalid-request/> (as libinfinity 0.7 does); the bench counts them.
  const proxy = session(c.doc);
  const handle = proxy.handle.bind(proxy);
  proxy.handle = (el) => {
    if (el.name === 'invalid-request') c.invalid++;
    handle(el);
  };
}

// The bench sends edits without the directory round trip that TextDocument.insert/delete add
// after each one (a real editor does not wait either), so it reaches the session proxy directly.
const session = (doc) => doc.session;

/** One random edit: a tagged insert or a 1-7 character delete, keeping the text near `target`. */
function edit(c, target) {
  // ASCII only: string units are code points here. A light typist knows a lower bound only.
  const len = c.light ? c.light.length : c.doc.text.length;
  const insert = len < 8 || rand() < (len < target ? 0.6 : 0.4);
  const n = 1 + Math.floor(rand() * 7);
  const op = insert
    ? { kind: 'insert', pos: Math.floor(rand() * (len + 1)), text: timeTag() }
    : { kind: 'delete', pos: Math.floor(rand() * (len - n + 1)), len: n };
  if (c.light) c.light.send(op);
  else session(c.doc).send(op);
  if (insert) c.own++;
  return insert;
}

/** Deterministic ASCII text of `size` characters, in lines of words. */
function makeText(size) {
  const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'tandem', 'infinote', 'gobby', 'adopted', 'request'];
  const r = random(42);
  const parts = [];
  let n = 0;
  while (n < size) {
    const w = words[Math.floor(r() * words.length)] + (r() < 0.1 ? '\n' : ' ');
    parts.push(w);
    n += w.length;
  }
  return parts.join('').slice(0, size);
}

const commands = {
  /** Opens `names.length` connections (SASL ANONYMOUS, no TLS). */
  async connect({ port, names, concurrency = 50 }) {
    const made = await pool(names, concurrency, async (name) => ({
      name, client: await connect({ host: '127.0.0.1', port, tls: false, user: name, timeoutMs: 120000 }), invalid: 0, own: 0, remote: 0,
    }));
    clients.push(...made);
    return { connected: made.length };
  },

  /**
   * Subscribes every connection to its path (created if missing), joins, times the last. With
   * `observers` (a list of names), only those are full clients; the others become light typists.
   */
  async open({ paths, join = true, concurrency = 50, create = false, observers }) {
    const t0 = nowMs();
    let failed = 0;
    let firstError;
    await pool(clients, concurrency, async (c, i) => {
      if (c.doc) return; // opened by an earlier call (connections added in steps)
      try {
        if (observers && !observers.includes(c.name)) {
          c.doc = await c.client.open(paths[i % paths.length], { create });
          c.light = new LightTypist(c.doc, c.name, (text) => arrived(c, text));
          await c.light.join();
          return;
        }
        c.doc = await c.client.open(paths[i % paths.length], { create, ...(join ? { user: c.name } : {}) });
        watch(c);
      } catch (err) {
        failed++;
        firstError ??= err.message;
      }
    });
    return { ms: nowMs() - t0, failed, firstError };
  },

  /** Creates `path` with `size` characters of text (put: requests of at most 16 KiB each). */
  async put({ port, path, size, keep = true }) {
    const client = await connect({ host: '127.0.0.1', port, tls: false, user: 'putter', timeoutMs: 600000 });
    const doc = await client.open(path, { create: true, user: 'putter' });
    await doc.setText(makeText(size));
    const length = doc.text.length;
    if (keep) kept.push(client);
    else await client.close();
    return { length };
  },

  /**
   * Types until `startAt + durationMs` (paced: `rate` edits/s per client, each starting at a
   * random time within one period plus `rampMs`, then on a fixed schedule; flood:
   * batches of `batch` edits, each followed by a round trip, until `maxEdits` per client).
   */
  async type({ startAt, warmupMs = 0, rampMs = 0, durationMs, rate = 5, mode = 'paced', batch = 20, maxEdits = Infinity, target = 2000, observersType = true }) {
    histogram = new Histogram();
    windowStart = startAt + warmupMs;
    stopTyping = false;
    const end = startAt + durationMs;
    let edits = 0;
    let editsInWindow = 0;
    let inserts = 0;
    const count = (isInsert) => {
      edits++;
      if (isInsert) inserts++;
      if (nowMs() >= windowStart) editsInWindow++;
    };
    await sleep(Math.max(0, startAt - nowMs()));
    // The load process's CPU over the whole typing phase (a saturated process fires no timer on time).
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    const live = clients.filter((c) => c.doc && (observersType || c.light));
    if (mode === 'paced') {
      const period = 1000 / rate;
      await Promise.all(live.map(async (c) => {
        // A random start (typists join in over the ramp, as people do; all at once within one
        // period tips both servers over, notes.md), then a fixed schedule: a late timer does not
        // lower the offered rate.
        let next = nowMs() + rand() * (period + rampMs);
        for (;;) {
          await sleep(Math.max(0, next - nowMs()));
          if (nowMs() >= end || stopTyping) return;
          count(edit(c, target));
          next += period;
        }
      }));
    } else {
      await Promise.all(live.map(async (c) => {
        let mine = 0;
        while (nowMs() < end && mine < maxEdits) {
          for (let i = 0; i < batch && mine < maxEdits; i++, mine++) count(edit(c, target));
          // At most `batch` requests in flight: the directory reply comes after the server has
          // processed them (it reads a connection's input in order).
          await (c.light ? c.client.flush() : c.doc.flush());
          if (stopTyping) return;
        }
      }));
    }
    const cpu = process.cpuUsage(cpu0);
    return { edits, editsInWindow, inserts, cpuShare: (cpu.user + cpu.system) / 1e3 / (nowMs() - t0), lateMs: nowMs() - end };
  },

  /**
   * Waits until every client received every other client's inserts, then a round trip each.
   * Hashes: the texts of the full clients. Light typists hold no text; they are checked by
   * having received every insert, never an invalid-request, and a length bound that held.
   */
  async drain({ totalInserts, timeoutMs = 30000 }) {
    const deadline = nowMs() + timeoutMs;
    const live = clients.filter((c) => c.doc);
    const behind = () => live.filter((c) => c.remote < totalInserts - c.own);
    while (behind().length > 0 && nowMs() < deadline) await sleep(50);
    const incomplete = behind().length;
    // A server that fell behind answers late or never: the round trips get a bounded wait too.
    const flushes = pool(live, 50, (c) => (c.light ? c.client.flush() : c.doc.flush()).catch(() => undefined));
    if (incomplete === 0) await Promise.race([flushes, sleep(timeoutMs)]);
    const full = live.filter((c) => !c.light);
    const light = live.filter((c) => c.light);
    return {
      histogram: histogram.counts,
      incomplete,
      hashes: full.map((c) => textHash(c.doc.text)),
      lengths: full.map((c) => c.doc.text.length),
      lightCount: light.length,
      lightMaxBound: light.length ? Math.max(...light.map((c) => c.light.length)) : undefined,
      lightTroubles: light.filter((c) => c.light.closed || c.light.unbounded || c.light.length < 0).length,
      invalidRequests: live.reduce((n, c) => n + c.invalid + (c.light?.invalidRequests ?? 0), 0),
    };
  },

  /** Text hashes of every open document, and how many users each sees as present. */
  async state() {
    const live = clients.filter((c) => c.doc);
    await pool(live, 50, (c) => c.doc.flush().catch(() => undefined));
    return {
      hashes: live.map((c) => textHash(c.doc.text)),
      present: live.map((c) => c.doc.users.filter((u) => u.status !== 'unavailable').length),
    };
  },

  /** The server's text as a fresh subscriber sees it; with `repeat`, the subscribe times. */
  async observe({ port, path, repeat = 1 }) {
    const client = await connect({ host: '127.0.0.1', port, tls: false, user: 'observer', timeoutMs: 600000 });
    const times = [];
    let hash;
    try {
      for (let i = 0; i < repeat; i++) {
        // The previous open's garbage is not this open's cost (the worker runs with --expose-gc).
        globalThis.gc?.();
        const t0 = nowMs();
        const doc = await client.open(path);
        times.push(nowMs() - t0);
        hash = textHash(doc.text);
        doc.close();
        await client.flush();
      }
    } finally {
      await client.close();
    }
    return { hash, times };
  },

  async close() {
    stopTyping = true;
    await Promise.all([...clients.map((c) => c.client), ...kept].map((c) => c.close().catch(() => undefined)));
    clients = [];
    kept = [];
    return {};
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await commands[cmd](args ?? {});
    process.send({ id, ok: true, result, memory: process.memoryUsage().rss / 2 ** 20 });
  } catch (err) {
    process.send({ id, ok: false, error: err.stack ?? String(err) });
  }
});
process.send({ ready: true, seed });
// The orchestrator disconnects when done; exiting normally lets `--cpu-prof` write its profile.
process.on('disconnect', () => process.exit(0));
