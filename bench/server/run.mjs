#!/usr/bin/env node
// tandemd vs infinoted, side by side (issue 7). `npm run bench:server [-- --quick]`.
//   --quick            a short run (K up to 20, 3 s windows, smaller documents): a few minutes
//   --smoke            seconds-long run of every scenario with tiny sizes (for the interop test)
//   --only a,h,b,c,d,e run only these scenarios (h: (a) at one K, the servers in turn, --pairs times)
//   --pairs N          pairs of rows in (h) (default 5, quick 2, smoke 1); --pair-k K: its K (default 50)
//   --servers LIST     tandemd,infinoted (default both)
//   --procs N          load worker processes for (a) and (b) (default 1)
//   --profile DIR      run tandemd under node --cpu-prof, profiles written to DIR
//   --out FILE         results file (default bench/server/results.json, quick: results-quick.json)
//   --no-report        do not rewrite the Server section of docs/benchmarks.md
//   --seed N           seed of the edit sequence (printed)
//   --ks LIST          client counts for (a), e.g. 5,20 (default 5,10,20,30,40,50,60,80,100,120,150,200,500,1000)
//   --window S         measurement window of (a) and (b) in seconds
//   --warmup S         warm-up of (a) and (b) before the measurement window, in seconds
//   --warmup-edits N   (a), (h): the warm-up lasts at least until K x 5 edits/s have made N edits
//                      (default 1000; quick and smoke 0), so that low K rows see a warmed-up server
//   --ramp S           (a): typists start at random times spread over this many seconds of the
//                      warm-up (default three quarters of it); 0 starts all within one period
//   --timeout S        hard limit per scenario (default 900, quick 200, smoke 60): past it the
//                      scenario's processes are killed, it is reported as timed out, the run goes on
// Environment: TANDEMD_CHECKOUT=DIR benchmarks the tandemd built in another checkout;
// BENCH_SERVER_STDERR=FILE appends what the servers write to stderr to FILE, BENCH_SERVER_STDOUT=FILE
// their stdout (e.g. tandemd under TANDEMD_NODE_ARGS="--trace-gc").
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeReport } from './report.mjs';
import { killWorkers, scenarioA, scenarioH, scenarioB, scenarioC, scenarioD, scenarioE } from './scenarios.mjs';
import { INFINOTED, SERVERS, killServers } from './servers.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string', default: 'a,h,b,c,d,e' },
    pairs: { type: 'string' },
    'pair-k': { type: 'string' },
    servers: { type: 'string', default: SERVERS.join(',') },
    procs: { type: 'string', default: '1' },
    profile: { type: 'string' },
    out: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    ks: { type: 'string' },
    window: { type: 'string' },
    ramp: { type: 'string' },
    warmup: { type: 'string' },
    'warmup-edits': { type: 'string' },
    timeout: { type: 'string' },
  },
});

const quick = values.quick || values.smoke;
const smoke = values.smoke;
const opts = {
  quick,
  smoke,
  seed: Number(values.seed),
  servers: values.servers.split(',').filter(Boolean),
  procs: Number(values.procs),
  profile: values.profile,
  ks: values.ks ? values.ks.split(',').map(Number) : smoke ? [3, 8] : quick ? [5, 20, 30, 40] : [5, 10, 20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 500, 1000],
  capA: quick ? 120 : 720,
  pairs: values.pairs ? Number(values.pairs) : smoke ? 1 : quick ? 2 : 5,
  pairK: values['pair-k'] ? Number(values['pair-k']) : smoke ? 3 : 50,
  warmupMs: values.warmup ? Number(values.warmup) * 1000 : smoke ? 300 : quick ? 1000 : 2000,
  warmupEdits: values['warmup-edits'] !== undefined ? Number(values['warmup-edits']) : quick ? 0 : 1000,
  windowMs: values.window ? Number(values.window) * 1000 : smoke ? 1000 : quick ? 3000 : 10000,
  sizes: smoke ? [2 ** 16] : quick ? [2 ** 20, 2 * 2 ** 20] : [2 ** 20, 10 * 2 ** 20],
  history: smoke ? 400 : quick ? 10000 : 100000,
  idle: smoke ? 40 : quick ? 200 : 1000,
  massJoin: smoke ? 16 : 128,
  documents: smoke ? 10 : 100,
  observers: 3,
  timeoutS: values.timeout ? Number(values.timeout) : smoke ? 60 : quick ? 200 : 900,
  batchB: 1,
};
// (a)'s typists start over the ramp, three quarters of the warm-up unless given.
opts.rampMs = values.ramp !== undefined ? Number(values.ramp) * 1000 : Math.round(0.75 * opts.warmupMs);
if (!(opts.rampMs >= 0 && opts.rampMs <= opts.warmupMs)) throw new Error(`--ramp must be between 0 and the warm-up (${opts.warmupMs / 1000} s)`);
for (const s of opts.servers) if (!SERVERS.includes(s)) throw new Error(`unknown server "${s}" (tandemd, infinoted)`);

const repo = fileURLToPath(new URL('../..', import.meta.url));
const out = values.out ?? fileURLToPath(new URL(smoke ? './results-smoke.json' : quick ? './results-quick.json' : './results.json', import.meta.url));
const argv = process.argv.slice(2);

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let infinoted = 'unknown';
  try {
    infinoted = execFileSync(INFINOTED, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch { /* reported as unknown */ }
  return {
    nproc: cpus().length,
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    infinoted,
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const results = {
  command: `${process.env.TANDEMD_CHECKOUT ? `TANDEMD_CHECKOUT=${process.env.TANDEMD_CHECKOUT} ` : ''}npm run bench:server${argv.length ? ' -- ' + argv.join(' ') : ''}`,
  date: new Date().toISOString(),
  machine: machine(),
  settings: { ...opts, profile: undefined },
  scenarios: {},
};
log(`seed ${opts.seed}; ${results.machine.nproc} CPUs (${results.machine.cpu}), Node ${results.machine.node}, ${results.machine.infinoted}`);
const started = Date.now();
const table = { a: scenarioA, h: scenarioH, b: scenarioB, c: scenarioC, d: scenarioD, e: scenarioE };
for (const name of values.only.split(',').filter(Boolean)) {
  if (!table[name]) throw new Error(`unknown scenario "${name}" (a, h, b-e)`);
  // A scenario can never hang the run: past its limit every process it started is killed.
  const t0 = Date.now();
  let timer;
  const limit = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), opts.timeoutS * 1000); });
  const rows = [];
  const outcome = await Promise.race([table[name](opts, log, rows).then((rows) => ({ rows }), (error) => ({ error })), limit]);
  clearTimeout(timer);
  if (outcome === 'timeout' || outcome.error) {
    killWorkers();
    killServers();
    const why = outcome === 'timeout' ? `timed out after ${opts.timeoutS} s` : `failed: ${outcome.error.message.split('\n')[0]}`;
    log(`(${name}) ${why}`);
    results.scenarios[name] = rows;
    results.failures = { ...results.failures, [name]: `${why} (${Math.round((Date.now() - t0) / 1000)} s; rows before that are kept)` };
    await new Promise((r) => setTimeout(r, 1000));
  } else results.scenarios[name] = outcome.rows;
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
}
results.totalSeconds = Math.round((Date.now() - started) / 1000);
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
log(`results in ${out} (${results.totalSeconds} s)`);
if (!values['no-report']) log(`report: ${writeReport(results, repo)}`);
