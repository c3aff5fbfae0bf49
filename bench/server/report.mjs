// Writes the "Server" section of docs/benchmarks.md from a results file. The "Engine" section
// belongs to the engine benchmark: the file is re-read right before writing and only the text
// from "## Server" to the next "## " heading is replaced.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fmt = (v, d = 2) => (v === null || v === undefined ? '–' : typeof v === 'number' ? String(Math.round(v * 10 ** d) / 10 ** d) : String(v));
const ratio = (a, b, d = 2) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${fmt(a / b, d)}×` : '–');
const yes = (b) => (b ? 'yes' : '**no**');

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Pairs rows of the two servers by `key`, in the order they first appear. */
function pairs(rows, key) {
  const order = [];
  const by = new Map();
  for (const r of rows) {
    const k = key(r);
    if (!by.has(k)) { by.set(k, {}); order.push(k); }
    by.get(k)[r.server] = r;
  }
  return order.map((k) => [k, by.get(k)]);
}

/** The load process saturated: over 0.85 of a core, or typing fell short of K × 5 edits/s. */
const limited = (r) => r.loadLimited || (r.K !== undefined && r.editsPerSecond < 0.8 * r.K * 5);

function sectionA(rows) {
  const out = [];
  for (const [K, { tandemd: t, infinoted: i }] of pairs(rows, (r) => r.K)) {
    const p = (v, r) => fmt(v) + (r.undelivered ? ` (+${r.undelivered} clients short)` : '');
    const line = (r) => [K, r.server, fmt(r.editsPerSecond, 0), fmt(r.latency.p50), p(r.latency.p95, r), fmt(r.latency.p99),
      fmt(r.serverCpuPer1000Edits, 3), fmt(r.editsPerServerCpuSecond, 0), fmt(r.serverRssMiB, 0), r.loadCpuShare.map((c) => fmt(c)).join('+') + (limited(r) ? ' (limit)' : ''), yes(r.converged)];
    const failed = (r) => [K, r.server, `failed: ${r.error}`, '', '', '', '', '', '', '', ''];
    if (t) out.push(t.error ? failed(t) : line(t));
    if (i) out.push(i.error ? failed(i) : line(i));
    if (t && i && !t.error && !i.error) {
      out.push([K, '*tandemd ÷ infinoted*', '', ratio(t.latency.p50, i.latency.p50), ratio(t.latency.p95, i.latency.p95), ratio(t.latency.p99, i.latency.p99),
        ratio(t.serverCpuPer1000Edits, i.serverCpuPer1000Edits), ratio(t.editsPerServerCpuSecond, i.editsPerServerCpuSecond), ratio(t.serverRssMiB, i.serverRssMiB), '', '']);
    }
  }
  return table(['K', 'server', 'edits/s', 'p50 ms', 'p95 ms', 'p99 ms', 'server CPU s / 1000 edits', 'edits / server CPU s', 'server RSS MiB', 'load-gen CPU (cores)', 'converged'], out);
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

function sectionH(rows) {
  const out = [];
  const ratios = [];
  const p99s = [];
  for (const [pair, { tandemd: t, infinoted: i }] of pairs(rows, (r) => r.pair)) {
    const short = (r) => (r?.undelivered ? ` (+${r.undelivered} clients short)` : '');
    const edits = t?.editsPerServerCpuSecond && i?.editsPerServerCpuSecond ? t.editsPerServerCpuSecond / i.editsPerServerCpuSecond : undefined;
    if (edits !== undefined) ratios.push(edits);
    if (t && i) p99s.push(t.latency.p99 / i.latency.p99);
    out.push([pair, fmt(t?.serverCpuPer1000Edits, 3) + short(t), fmt(i?.serverCpuPer1000Edits, 3) + short(i), edits === undefined ? '–' : `${fmt(edits)}×`,
      fmt(t?.latency.p99), fmt(i?.latency.p99), t && i ? ratio(t.latency.p99, i.latency.p99) : '–', `${t ? yes(t.converged) : '–'} / ${i ? yes(i.converged) : '–'}`]);
  }
  const m = median(ratios);
  const summary = ratios.length ? `Median over the ${ratios.length} pairs: tandemd makes **${fmt(m)}×** infinoted\'s edits per server CPU second (range ${fmt(Math.min(...ratios))}-${fmt(Math.max(...ratios))}×), with p99 at ${fmt(median(p99s))}× infinoted\'s.` : 'No pair has a server CPU time on both sides (a window with less than one clock tick of it): no ratio.';
  return [table(['pair', 'tandemd CPU s / 1000 edits', 'infinoted CPU s / 1000 edits', 'tandemd ÷ infinoted edits per CPU s', 'tandemd p99 ms', 'infinoted p99 ms', 'p99 ratio', 'converged (t / i)'], out), '', summary].join('\n');
}

function sectionB(rows) {
  const out = rows.map((r) => [r.server, fmt(r.editsPerSecond, 0), fmt(r.serverCpuShare), fmt(r.serverCpuPer1000Edits, 3), fmt(r.latency.p50), fmt(r.latency.p99),
    r.loadCpuShare.map((c) => fmt(c)).join('+') + (r.loadLimited ? ' (limit)' : ''), yes(r.converged)]);
  const t = rows.find((r) => r.server === 'tandemd');
  const i = rows.find((r) => r.server === 'infinoted');
  if (t && i) out.push(['*tandemd ÷ infinoted*', ratio(t.editsPerSecond, i.editsPerSecond), ratio(t.serverCpuShare, i.serverCpuShare), ratio(t.serverCpuPer1000Edits, i.serverCpuPer1000Edits), ratio(t.latency.p50, i.latency.p50), ratio(t.latency.p99, i.latency.p99), '', '']);
  return table(['server', 'edits/s', 'server CPU (cores)', 'server CPU s / 1000 edits', 'p50 ms', 'p99 ms', 'load-gen CPU (cores)', 'converged'], out);
}

function sectionC(rows) {
  const out = [];
  for (const [doc, { tandemd: t, infinoted: i }] of pairs(rows, (r) => r.document)) {
    out.push([doc, fmt(t?.gobbyMs, 1), fmt(i?.gobbyMs, 1), ratio(t?.gobbyMs, i?.gobbyMs),
      fmt(t?.subscribeMs, 1), fmt(i?.subscribeMs, 1), ratio(t?.subscribeMs, i?.subscribeMs), fmt(t?.serverMs, 1), fmt(i?.serverMs, 1), ratio(t?.serverMs, i?.serverMs),
      `${fmt(t?.syncMiB, 2)} / ${fmt(i?.syncMiB, 2)}`, `${t?.gobbyTimes?.join(', ') ?? '–'} / ${i?.gobbyTimes?.join(', ') ?? '–'}`, `${t?.times?.join(', ') ?? '–'} / ${i?.times?.join(', ') ?? '–'}`,
      `${fmt(t?.firstMs, 1)} / ${fmt(i?.firstMs, 1)}`, `${fmt(t?.buildSeconds, 1)} / ${fmt(i?.buildSeconds, 1)}`]);
  }
  return table(['document', 'libinfinity client ready: tandemd ms', 'infinoted ms', 'tandemd ÷ infinoted', '@tandem/client ready: tandemd ms', 'infinoted ms', 'tandemd ÷ infinoted',
    'server side: tandemd ms', 'infinoted ms', 'tandemd ÷ infinoted', 'sync MiB (tandemd / infinoted)', 'libinfinity client each run (tandemd / infinoted)', '@tandem/client each run (tandemd / infinoted)',
    '@tandem/client cold first open ms (tandemd / infinoted)', 'built in s (tandemd / infinoted)'], out);
}

function sectionD(rows) {
  const t = rows.find((r) => r.server === 'tandemd');
  const i = rows.find((r) => r.server === 'infinoted');
  const out = rows.map((r) => [r.server, r.clients, fmt(r.lastReadyMs, 0), yes(r.allSynced), r.failed, fmt(r.serverRssMiB, 0)]);
  if (t && i) out.push(['*tandemd ÷ infinoted*', '', ratio(t.lastReadyMs, i.lastReadyMs), '', '', ratio(t.serverRssMiB, i.serverRssMiB)]);
  return table(['server', 'clients', 'last ready after ms', 'all synced', 'failed', 'server RSS MiB'], out);
}

function sectionE(rows) {
  const t = rows.find((r) => r.server === 'tandemd');
  const i = rows.find((r) => r.server === 'infinoted');
  const out = rows.map((r) => [r.server, r.connections, r.documents, fmt(r.rssBeforeMiB, 1), fmt(r.rssMidMiB, 1), fmt(r.rssAfterMiB, 1), fmt(r.kibPerConnection, 1), fmt(r.kibPerConnectionSecondHalf, 1), r.failed]);
  if (t && i) out.push(['*tandemd ÷ infinoted*', '', '', ratio(t.rssBeforeMiB, i.rssBeforeMiB), ratio(t.rssMidMiB, i.rssMidMiB), ratio(t.rssAfterMiB, i.rssAfterMiB), ratio(t.kibPerConnection, i.kibPerConnection), ratio(t.kibPerConnectionSecondHalf, i.kibPerConnectionSecondHalf), '']);
  return table(['server', 'connections', 'documents', 'RSS before MiB', 'RSS at half MiB', 'RSS after MiB', 'KiB per connection', 'KiB per connection, second half', 'failed'], out);
}

/** Before/after figures of tandemd in (a), from results-before.json (the run before the fixes). */
function beforeAfter(before, after) {
  const b = before?.scenarios?.a?.filter((r) => r.server === 'tandemd' && !r.error) ?? [];
  const a = after?.scenarios?.a?.filter((r) => r.server === 'tandemd' && !r.error) ?? [];
  const out = [];
  for (const rb of b) {
    const ra = a.find((r) => r.K === rb.K);
    if (!ra) continue;
    out.push([rb.K, `${fmt(rb.serverCpuPer1000Edits, 3)} → ${fmt(ra.serverCpuPer1000Edits, 3)}`, `${fmt(rb.editsPerServerCpuSecond, 0)} → ${fmt(ra.editsPerServerCpuSecond, 0)}`,
      `${fmt(rb.latency.p95)} → ${fmt(ra.latency.p95)}`, `${fmt(rb.latency.p99)} → ${fmt(ra.latency.p99)}`, `${fmt(rb.serverRssMiB, 0)} → ${fmt(ra.serverRssMiB, 0)}`]);
  }
  if (out.length === 0) return '';
  return `Before → after, tandemd in scenario (a) (before: \`${before.command}\` at ${before.date.slice(0, 16)}; after: this run):\n\n` +
    table(['K', 'server CPU s / 1000 edits', 'edits / server CPU s', 'p95 ms', 'p99 ms', 'RSS MiB'], out);
}

export function renderServerSection(results, { before, notes } = {}) {
  const m = results.machine;
  const s = results.scenarios;
  const parts = [
    '## Server',
    '',
    '<!-- Generated by bench/server/report.mjs from bench/server/results.json; edit bench/server/notes.md instead. -->',
    '',
    `tandemd against the real infinoted (${m.infinoted}), both started by the benchmark as child processes with ` +
      '`--security-policy=no-tls -p PORT -r ROOT --listen-address=127.0.0.1` and a fresh root directory, loaded over loopback by ' +
      'separate load-generator processes built on `@tandem/client` (bench/server/worker.mjs). Server CPU is utime+stime from ' +
      '`/proc/PID/stat` over the measurement window, RSS is VmRSS from `/proc/PID/status`.',
    '',
    `* Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, Node ${m.node}; load average at start ${m.loadAverageAtStart} (the machine was shared).`,
    `* Command: \`${results.command}\` (${results.date.slice(0, 16)} UTC, ${results.totalSeconds ?? '?'} s, seed ${results.settings.seed}).`,
    '',
  ];
  // notes.md: what to read before the tables, then (after a line `<!-- history -->`) the dated
  // notebook of runs, fixes and experiments, which goes after them.
  const [lead, history] = (notes ?? '').split(/^<!-- history -->\s*$/m);
  if (lead?.trim()) parts.push(lead.trim(), '');
  for (const [name, why] of Object.entries(results.failures ?? {})) parts.push(`* **Scenario (${name}) did not complete:** ${why}.`, '');
  if (s.a?.length) {
    parts.push(`### (a) K clients typing 5 edits/s each on one document`, '',
      `K light typists (bench/server/light.mjs: they count relayed requests per user instead of transforming, and keep a lower bound of the length so every edit is in range) ` +
      `each insert a 7-character tag or delete 1-7 characters at a random position, 5 times a second, on a ~2,000-character document; ${results.settings.observers} full \`@tandem/client\` watchers (adOPTed engine, text) receive everything. ` +
      `Latency: from the send of an insert to its arrival at every other client (the tag carries the send time; deletes are not timed). ` +
      `The typists start at random times over the first ${(results.settings.rampMs ?? 0) / 1000} s of the warm-up (plus one period), as people join in; measured over ${results.settings.windowMs / 1000} s after a warm-up of ${results.settings.warmupMs / 1000} s${results.settings.warmupEdits ? ` or until the typists have made ${results.settings.warmupEdits} edits, whichever is longer (a server that has been running, its JIT warm: ${Math.round(results.settings.warmupEdits / 25)} s at K = 5)` : ''}; K escalates until p95 passes 100 ms ` +
      `or the ${results.settings.capA / 60}-minute cap. Converged: every client received every insert within 30 s, every watcher's text equals a fresh subscriber's (the server's), ` +
      'nobody received an invalid-request, and no light typist\'s length bound exceeds the server\'s length. "clients short": that many clients had not received every insert 30 s after typing stopped (the server fell behind and its backlog grew; the percentiles then cover only what arrived). ' +
      '"(limit)": the load process used more than 0.85 of a core or could not keep up 5 edits/s per client, so the load generator, not the server, limited that row.', '', sectionA(s.a), '');
  }
  if (s.h?.length) {
    const K = s.h[0].K;
    parts.push(`### (h) Head to head at K = ${K}`, '', `(a)\'s row at K = ${K} (the issue\'s goal: at least 2× infinoted\'s edits per server CPU second with p99 no worse), run for tandemd and infinoted in turn, ${results.settings.pairs} times, each on a freshly started server: the machine\'s state moves by tens of percent within minutes, so the ratio within a pair, and the median of the ratios, say more than any single row.`, '', sectionH(s.h), '');
  }
  if (s.b?.length) parts.push('### (b) Maximum throughput, 20 clients', '', `20 light typists each send ${results.settings.batchB} edit(s), wait for a directory round trip (the server reads a connection in order, so the reply means it has processed them), and repeat; one full client watches. Latency: send to arrival at the other clients.`, '', sectionB(s.b), '');
  // Runs before 2026-12-03 23:00 did not record the client's warm-up opens: there were 2.
  const warm = s.c?.[0]?.warmOpens ?? 2;
  if (s.c?.length) parts.push('### (c) Subscribe time', '', `Subscription until \`sync-end\`, acknowledged. "libinfinity client ready": what a Gobby user waits for, the real libinfinity 0.7 client (Debian's, through python3-gi: bench/server/gobby-subscribe.mjs with the interop tests' driver) timing, in its own main loop, its subscribe request until the synchronisation is complete; median of 5 opens, each by a fresh process and connection, after the directory was explored; for big documents most of that time is libinfinity parsing and storing what it receives, the same for both servers. "@tandem/client ready": a \`@tandem/client\` subscriber until its document is open (it parses every message and rebuilds the request logs: the same work for both servers); one fresh connection opens the document ${warm + 5} times, collecting its garbage before each, the figure is the median of the last 5 (the first ${warm} compile the client's synchronisation path, the same cost for both servers; the first, cold open, which also pays the server's first serialisation of that text, has a column of its own). "Server side": median of 5 fresh raw connections (bench/server/raw-subscribe.mjs) that parse nothing, each from its subscribe-session request until the last byte of \`<sync-end/>\` has arrived: what each server needs to build and send the synchronisation. The big documents are uploaded with \`put\` (inserts of at most 8192 UTF-16 units); the history is built by one light typist sending batches of 100 edits. The uploader of the history document leaves after the upload and the typist is always up to date, so both servers clean the request log as it grows (libinfinity's \`max-total-log-size\`, 2048): the subscriber receives the current text and about 2048 logged requests, which is what a subscriber to a long-edited document gets from either server. Opens begin once the server has settled after building the document (at most one clock tick of CPU in a second: tandemd collects the upload's garbage and saves the document when its crash journal has grown long).`, '', sectionC(s.c), '');
  if (s.d?.length) parts.push('### (d) 128 clients joining one document at once', '', '128 connected clients subscribe and join a 10,000-character document at the same moment; time until the last has joined. All synced: every text equals a fresh subscriber\'s and every client sees all 128 joiners (plus the uploader).', '', sectionD(s.d), '');
  if (s.e?.length) parts.push(`### (e) ${results.settings.idle} idle connections over 100 documents`, '', 'Each connection subscribes to and joins one of 100 documents of 1,000 characters. RSS before (documents created, no connection), 2 s after the first half of the connections joined, and 2 s after the last join. \"Second half\": what the second half added, per connection: the cost of one more connection, without what the first ones cost once (the garbage-collected heap of tandemd grows its young generation under the joins).', '', sectionE(s.e), '');
  const ba = beforeAfter(before, results);
  if (ba) parts.push('### Profile and fixes: before and after', '', ba, '');
  if (history?.trim()) parts.push(history.trim(), '');
  return parts.join('\n');
}

/** Replaces (or appends) the Server section of docs/benchmarks.md; returns the file's path. */
export function writeReport(results, repo) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const readJson = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);
  const notesFile = join(here, 'notes.md');
  const section = renderServerSection(results, {
    before: readJson(join(here, 'results-before.json')),
    notes: existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined,
  });
  const file = join(repo, 'docs', 'benchmarks.md');
  // Re-read right before writing: the engine benchmark edits its own section of the same file.
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n## Engine\n\n(Written by the engine benchmark, bench/engine.)\n\n## Server\n';
  const start = current.search(/^## Server\s*$/m);
  let next;
  if (start < 0) next = current.trimEnd() + '\n\n' + section + '\n';
  else {
    const rest = current.slice(start + 1);
    const end = rest.search(/^## /m);
    next = current.slice(0, start) + section + '\n' + (end < 0 ? '' : '\n' + rest.slice(end));
  }
  writeFileSync(file, next);
  return file;
}

// `node bench/server/report.mjs [results.json]` rewrites the section from a results file.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const file = process.argv[2] ?? join(repo, 'bench', 'server', 'results.json');
  console.log(writeReport(JSON.parse(readFileSync(file, 'utf8')), repo));
}
