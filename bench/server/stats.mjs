// Measurement helpers shared by the orchestrator and the load workers: a mergeable latency
// histogram, the send-time tag carried by every inserted text, and /proc readings of a process.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const nowMs = () => performance.timeOrigin + performance.now();

// Every insert is a 7-character base-36 tag of its send time in 10 µs units. Inserts are never
// split by transformation, so each receiver sees the whole tag and can compute the latency itself,
// whatever process sent it. 36^7 units wrap after ~9 days; the difference is taken modulo that.
const TAG_LEN = 7;
const TAG_MOD = 36 ** TAG_LEN;
export function timeTag(ms = nowMs()) {
  return (Math.round(ms * 100) % TAG_MOD).toString(36).padStart(TAG_LEN, '0');
}
/** Milliseconds since the tag was made, or undefined if `text` is not a tag. */
export function tagAge(text, ms = nowMs()) {
  if (text.length !== TAG_LEN) return undefined;
  const sent = parseInt(text, 36);
  if (!Number.isFinite(sent)) return undefined;
  const diff = (((Math.round(ms * 100) - sent) % TAG_MOD) + TAG_MOD) % TAG_MOD;
  return diff / 100;
}

// Log buckets growing by 1 % from 10 µs: a percentile is exact to 1 %, a histogram is a few
// hundred counters however many samples it holds, so workers can ship it to the orchestrator.
const BASE_MS = 0.01;
const RATIO = Math.log(1.01);
export class Histogram {
  constructor(counts = {}) {
    this.counts = { ...counts };
    this.n = Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
  add(ms) {
    const i = ms <= BASE_MS ? 0 : Math.ceil(Math.log(ms / BASE_MS) / RATIO);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.n++;
  }
  merge(other) {
    for (const [i, c] of Object.entries(other.counts)) this.counts[i] = (this.counts[i] ?? 0) + c;
    this.n += other.n;
    return this;
  }
  /** Upper bound of the bucket holding the p-th percentile (p in 0..100), in ms. */
  percentile(p) {
    if (this.n === 0) return undefined;
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (const i of Object.keys(this.counts).map(Number).sort((a, b) => a - b)) {
      seen += this.counts[i];
      if (seen >= rank) return BASE_MS * Math.exp(i * RATIO);
    }
    return undefined;
  }
  summary() {
    const r = (v) => (v === undefined ? null : Math.round(v * 100) / 100);
    return { samples: this.n, p50: r(this.percentile(50)), p95: r(this.percentile(95)), p99: r(this.percentile(99)) };
  }
}

/** CPU seconds (user + system) of a process, from /proc/PID/stat (fields 14 and 15, in ticks). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}
// sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on (USER_HZ is fixed by the kernel ABI).
const CLOCK_TICKS = 100;

/** Resident and peak resident memory of a process in MiB, from /proc/PID/status. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** A small FNV-1a hash of a string, to compare texts across processes without shipping them. */
export function textHash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return `${(h >>> 0).toString(16)}:${s.length}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
