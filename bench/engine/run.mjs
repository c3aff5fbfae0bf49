#!/usr/bin/env node
/**
 * Engine benchmark: replay time of every session record in ../shared/conformance/replay and the
 * session suite (every <infinote-test> in file order + 99 random causal orders), with the heap
 * used, beside the real libinfinity 0.7.2 (../shared/tools/oracle/replay-time.py) when present.
 * Writes the "Engine" section of docs/benchmarks.md.   Run: npm run bench [-- --no-write]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseXmlDocument } from '@tandem/protocol';
import { parseRecord, replayRecord, runFile } from '@tandem/conformance';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shared = resolve(root, '../shared');
const conf = join(shared, 'conformance');
const RUNS = 5;
const notes = join(root, 'bench/engine/notes.md');

const best = (fn) => {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return min;
};
const mb = (b) => (b / 1048576).toFixed(1);

if (!existsSync(conf)) {
  console.error(`${conf} not found: nothing to benchmark`);
  process.exit(1);
}

const replays = readdirSync(join(conf, 'replay')).filter((f) => f.endsWith('.record.xml')).sort();
const rows = [];
let peak = 0;
// First a cold pass over every file (timed once: what a fresh process pays, JIT compilation
// included), then the best of RUNS warm runs of each.
const xmls = new Map(replays.map((f) => [f, readFileSync(join(conf, 'replay', f), 'utf8')]));
const firstMs = new Map();
for (const f of replays) {
  const t = process.hrtime.bigint();
  replayRecord(parseRecord(parseXmlDocument(xmls.get(f))));
  firstMs.set(f, Number(process.hrtime.bigint() - t) / 1e6);
}
for (const f of replays) {
  const xml = xmls.get(f);
  const parseMs = best(() => parseXmlDocument(xml));
  const rec = parseRecord(parseXmlDocument(xml));
  const playMs = best(() => replayRecord(rec));
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  rows.push({ file: f, requests: rec.events.filter((e) => e.kind === 'request').length, parseMs, playMs, firstMs: firstMs.get(f) });
}

// libinfinity: load (parse + sync) and play, best of 3, from the oracle's replay-time.py.
const lib = new Map();
const script = join(shared, 'tools/oracle/replay-time.py');
if (existsSync(script) && existsSync('/usr/bin/python3')) {
  const out = execFileSync('/usr/bin/python3', [script, ...replays.map((f) => join(conf, 'replay', f))], { encoding: 'utf8', maxBuffer: 1 << 26 });
  for (const line of out.split('\n').filter(Boolean)) {
    const j = JSON.parse(line);
    lib.set(basename(j.file ?? j.path ?? ''), j);
  }
}

const sessionFiles = readdirSync(join(conf, 'session')).filter((f) => f.endsWith('.xml')).sort();
let suiteMs = Infinity;
let failures = 0;
for (let r = 0; r < 3; r++) {
  const t = process.hrtime.bigint();
  failures = 0;
  for (const f of sessionFiles) if (!runFile(join(conf, 'session', f), { seed: 1, permutations: 99 }).ok) failures++;
  suiteMs = Math.min(suiteMs, Number(process.hrtime.bigint() - t) / 1e6);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}

const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
let table = '| file | requests | Tandem parse ms | Tandem replay ms | Tandem total ms | libinfinity load+play ms | ratio | Tandem first run ms |\n|---|--:|--:|--:|--:|--:|--:|--:|\n';
for (const r of rows) {
  const l = lib.get(r.file);
  const libMs = l ? (l.load_s + l.play_s) * 1000 : undefined;
  const total = r.parseMs + r.playMs;
  table += `| ${r.file} | ${r.requests} | ${fmt(r.parseMs)} | ${fmt(r.playMs)} | ${fmt(total)} | ${fmt(libMs)} | ${libMs ? (total / libMs).toFixed(2) : 'n/a'} | ${fmt(r.firstMs)} |\n`;
}
table += `| session suite (${sessionFiles.length} files x 100 orders) | | | | ${fmt(suiteMs)} | ~1050 (C harness, reference figure) | ${(suiteMs / 1050).toFixed(2)} | |\n`;

const section = `## Engine

Command: \`npm run bench\` (= \`tsc -b && node bench/engine/run.mjs\`), ${new Date().toISOString().slice(0, 10)}, Node ${process.version},
load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs.
${RUNS} warm runs each (after one cold pass over every file), best time; "first run" is the cold pass
(parse + replay in a fresh process, JIT compilation included, files in this order).
Tandem "parse" is XML parsing of the record, "replay" is building the session from
\`<initial>\` and executing every request (what libinfinity's load+play also covers, its parse included).
libinfinity figures come from \`/usr/bin/python3 ../shared/tools/oracle/replay-time.py\` run in the same
process tree (best of 3). The session suite runs every \`../shared/conformance/session\` file in file order plus
99 random causal orders (${failures} failures). Peak heap used: ${mb(peak)} MB.

${table}
${existsSync(notes) ? readFileSync(notes, 'utf8').trim() + '\n' : ''}`;

console.log(section);
if (!process.argv.includes('--no-write')) {
  const doc = join(root, 'docs/benchmarks.md');
  let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf('## Engine');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else {
    text = text.trimEnd() + '\n\n' + section;
  }
  writeFileSync(doc, text);
}
