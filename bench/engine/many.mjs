#!/usr/bin/env node
// Many authors: what one site pays per request as the number of users in a session grows, for
// Tandem's engine and the real libinfinity 0.7 side by side, on the same requests.
//
// For each user count U, bench/engine/central.mjs writes a record of a central session (U users
// typing into one 2,000-character document, each request made at a view of the server's order
// at most --lag requests behind, so a few requests are concurrent) as libinfinity's
// <infinote-adopted-session-record>. Both engines then play that record: Tandem through
// @tandem/conformance's replayRecord (parse included), libinfinity through
// ../shared/tools/oracle/replay-time.py (InfAdoptedSessionReplay, parse included). Both must end
// with the same text (sha256). Every site of a session does this work for every request: the
// server, and each client (Gobby is a libinfinity client). With U authors typing 5 edits/s a
// site has to take 5U requests a second; the last columns say how much of one core that is.
// --undo P makes a share P of the requests undos and redos (central.mjs --undo).
// Exits with 1 if the two engines end with different texts (or libinfinity refused a request).
//
//   node bench/engine/many.mjs [--users 20,50,100,200,500,1000] [--requests 2000] [--lag 4] [--runs 3] [--libinfinity-runs 1] [--undo 0] [--seed 1]
//
// Tandem's figure is the best of --runs plays in this process (the first compiles), libinfinity's
// the best of --libinfinity-runs (C, nothing to warm up; replay-time.py plays once more for its
// counts). libinfinity's time grows with the square of the users (99 ms a request at 1,000 users
// on the machine of docs/benchmarks.md), so the 1,000-user row alone takes some seven minutes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseRecord, replayRecord } from '@tandem/conformance';
import { parseXmlDocument } from '@tandem/protocol';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '20,50,100,200,500,1000' },
    requests: { type: 'string', default: '2000' },
    lag: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    'libinfinity-runs': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    undo: { type: 'string', default: '0' },
  },
});
const here = dirname(fileURLToPath(import.meta.url));
const oracle = resolve(here, '../../../shared/tools/oracle/replay-time.py');
const python = '/usr/bin/python3';
const haveLibinfinity = existsSync(oracle) && existsSync(python);
const runs = Number(values.runs);
const libRuns = Number(values['libinfinity-runs']);
const dir = mkdtempSync(join(tmpdir(), 'tandem-many-'));

const sha = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const f = (x, d = 3) => (x === undefined ? 'n/a' : x.toFixed(d));

console.log(`many authors: ${values.requests} requests, lag 0..${values.lag}, undo ${values.undo}, seed ${values.seed}; Tandem best of ${runs}, libinfinity best of ${libRuns}; Node ${process.version}` +
  (haveLibinfinity ? '' : ' (no libinfinity: ../shared/tools/oracle/replay-time.py or /usr/bin/python3 missing)'));
console.log('| users | requests | mean concurrency | Tandem ms/request | libinfinity ms/request | libinfinity ÷ Tandem | cores for 5 edits/s each: Tandem | libinfinity |');
console.log('|--:|--:|--:|--:|--:|--:|--:|--:|');
try {
  for (const U of values.users.split(',').map(Number)) {
    const file = join(dir, `central-${U}.record.xml`);
    const central = execFileSync(process.execPath, [join(here, 'central.mjs'), '--users', String(U), '--requests', values.requests, '--lag', values.lag, '--seed', values.seed, '--undo', values.undo, '--record', file], { encoding: 'utf8' });
    const concurrency = Number(/mean concurrency ([\d.]+)/.exec(central)?.[1]);
    const xml = readFileSync(file, 'utf8');
    let best = Infinity;
    let text = '';
    let requests = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      const rec = parseRecord(parseXmlDocument(xml));
      const session = replayRecord(rec);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      best = Math.min(best, ms);
      text = session.text;
      requests = rec.events.filter((e) => e.kind === 'request').length;
    }
    const ours = best / requests;
    let theirs;
    let same = '';
    if (haveLibinfinity) {
      const out = JSON.parse(execFileSync(python, [oracle, '--runs', String(libRuns), file], { encoding: 'utf8', maxBuffer: 1 << 26 }));
      if (out.error) throw new Error(`libinfinity could not play ${U} users: ${out.error}`);
      theirs = (out.wall_s * 1000) / out.requests;
      if (out.sha256 !== sha(text) || out.errors !== 0) {
        same = ' (TEXTS DIFFER)';
        process.exitCode = 1;
      }
    }
    const need = 5 * U;
    console.log(`| ${U} | ${requests} | ${concurrency.toFixed(1)} | ${f(ours)} | ${f(theirs)}${same} | ${theirs === undefined ? 'n/a' : f(theirs / ours, 1)} | ` +
      `${f((need * ours) / 1000, 2)} | ${theirs === undefined ? 'n/a' : f((need * theirs) / 1000, 2)} |`);
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
