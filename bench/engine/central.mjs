// The engine as a central server sees it (scenario (a) of bench/server without the network):
// K users type into one document; each request is made at the user's view of the server's
// execution order, which lags behind it by a random number of requests (0..LAG). The server
// session executes every request at its current state, so each request is translated against
// up to LAG concurrent ones. Prints engine time per request and a digest of the final text, so
// that a faster engine can be checked for the same result on the same seed.
//
// --undo P makes a share P of the requests undos and redos (when the user can undo/redo), so the
// walks fold and mirror too. --engine DIR runs another build of @tandem/adopted (its dist/src), to
// check a change of the engine for the same digest on the same seeds. --budget N sets the
// translation cache budget in vector components (default the engine's; 1e12 for none).
// --record FILE writes the session as libinfinity's <infinote-adopted-session-record> (the users
// and the document in <initial>, every request as the server received it, in its order), which
// libinfinity's replay (../shared/tools/oracle/replay-time.py) and ours both play: the same
// requests through both engines (bench/engine/many.mjs).
//
//   node bench/engine/central.mjs [--users 50] [--requests 3000] [--lag 16] [--seed 1] [--undo 0] [--budget N] [--record FILE]
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeRequest, encodeSyncBegin, encodeSyncSegment, encodeUser, serialize, wireOperationOf } from '@tandem/protocol';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const K = Number(args.users ?? 50);
const N = Number(args.requests ?? 3000);
const LAG = Number(args.lag ?? 16);
const seed = Number(args.seed ?? 1);
const INITIAL = Number(args.initial ?? 2000);
const UNDO = Number(args.undo ?? 0);
const { AdoptedSession, StateVector } = await import(
  args.engine ? pathToFileURL(resolve(args.engine, 'index.js')).href : '@tandem/adopted'
);

let s = seed >>> 0 || 1;
const rand = () => {
  // xorshift32
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s / 0x100000000;
};
const randInt = (n) => Math.floor(rand() * n);

const server = new AdoptedSession({ segments: [{ author: 0, text: 'x'.repeat(INITIAL) }] });
if (args.budget) server.translationCacheBudget = Number(args.budget);
for (let u = 1; u <= K; u++) server.addUser({ id: u, name: `u${u}` });

/** The server's execution order: user and length change (lower bound) of each request. */
const order = [];
/** Per user: how much of `order` it has received, its own request count. */
const received = new Array(K + 1).fill(0);
const own = new Array(K + 1).fill(0);

// The record: every user in the synchronisation with an empty vector; a request's `time` is
// diff-encoded against its user's previous one plus itself (libinfinity's last_send_table).
const record = args.record ? openSync(args.record, 'w') : undefined;
const lastSend = new Array(K + 1).fill(StateVector.zero);
if (record !== undefined) {
  let head = '<?xml version="1.0" encoding="UTF-8"?>\n<infinote-adopted-session-record>\n <initial>\n';
  head += `  ${serialize(encodeSyncBegin(K + 1))}\n  ${serialize(encodeSyncSegment({ author: 0, text: 'x'.repeat(INITIAL) }))}\n`;
  for (let u = 1; u <= K; u++) head += `  ${serialize(encodeUser('sync-user', { id: u, name: `u${u}`, status: 'active', time: StateVector.zero, caret: 0, selection: 0, hue: 0.5 }))}\n`;
  writeSync(record, `${head}  <sync-end/>\n </initial>\n`);
}

function viewOf(u) {
  const counts = new Map();
  let length = INITIAL;
  for (let i = 0; i < received[u]; i++) {
    const e = order[i];
    if (e.user !== u) counts.set(e.user, (counts.get(e.user) ?? 0) + 1);
    length += e.delta;
  }
  // Own requests are all in the user's view; their effect on the length is in `order` already
  // if received, so add the effect of the own ones not yet received.
  for (let i = received[u]; i < order.length; i++) if (order[i].user === u) length += order[i].delta;
  counts.set(u, own[u]);
  return { vector: StateVector.from(counts), length: Math.max(0, length) };
}

let engineNs = 0n;
let maxNs = 0n;
let concurrent = 0;
for (let n = 0; n < N; n++) {
  const u = 1 + randInt(K);
  // The user has received everything up to a random lag behind the server.
  received[u] = Math.max(received[u], order.length - randInt(LAG + 1));
  const { vector, length } = viewOf(u);
  let op;
  let delta;
  let body;
  const undoRoll = rand();
  if (undoRoll < UNDO / 2 && server.canUndo(u)) {
    body = { type: 'undo' };
    delta = 0;
  } else if (undoRoll >= UNDO / 2 && undoRoll < UNDO && server.canRedo(u)) {
    body = { type: 'redo' };
    delta = 0;
  } else if (rand() < 0.5 || length < 50) {
    op = { kind: 'insert', pos: randInt(length + 1), text: 'abcdefg'.slice(0, 1 + randInt(7)) };
    delta = op.text.length;
  } else {
    const len = 1 + randInt(7);
    op = { kind: 'delete', pos: randInt(length - len), len };
    delta = -len;
  }
  // An undo of an insert shortens the text by an unknown amount: keep the bound safe.
  if (body) delta = -7;
  body ??= { type: 'do', op };
  concurrent += server.current.sum() - vector.sum();
  const t0 = process.hrtime.bigint();
  const res = server.receiveRequest({ ...body, user: u, vector });
  const dt = process.hrtime.bigint() - t0;
  engineNs += dt;
  if (dt > maxNs) maxNs = dt;
  if (process.env.DEBUG && (res.error || res.executed.some((e) => e.error))) console.log(JSON.stringify({ n, u, body, vector: vector.toString(), length, server: server.length, current: server.current.toString() }));
  if (res.error || res.executed.some((e) => e.error)) throw new Error(`request ${n} failed: ${res.error?.message ?? res.executed.find((e) => e.error).error.message}`);
  own[u]++;
  if (record !== undefined) {
    const el = encodeRequest({ user: u, time: vector.minus(lastSend[u]).toString(), operation: wireOperationOf({ ...body, user: u, vector }, false) });
    writeSync(record, ` ${serialize(el)}\n`);
    lastSend[u] = vector.add(u, 1);
  }
  // The lower bound of the length: a delete removes at most its length.
  order.push({ user: u, delta });
}
if (record !== undefined) {
  writeSync(record, '</infinote-adopted-session-record>\n');
  closeSync(record);
}
const hash = createHash('sha256').update(server.text);
for (const seg of server.segments()) hash.update(`|${seg.author}:${seg.text.length}`);
const digest = hash.digest('hex').slice(0, 16);
console.log(
  `users ${K} requests ${N} lag 0..${LAG} undo ${UNDO} seed ${seed}: ${(Number(engineNs) / 1e6 / N).toFixed(3)} ms/request` +
    ` (max ${(Number(maxNs) / 1e6).toFixed(1)} ms, mean concurrency ${(concurrent / N).toFixed(1)}, total ${(Number(engineNs) / 1e6).toFixed(0)} ms)` +
    ` text ${server.length} cp sha256 ${digest}`,
);
