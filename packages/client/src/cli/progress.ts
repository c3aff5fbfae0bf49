// A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes
// stay clean), and only once a job has run for `delayMs`: quick jobs print nothing, any job
// that takes noticeable time shows its progress in characters, however small it is.

/** Where the bar goes: process.stderr, or anything with the same three members. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** `done` of `total` characters are through. */
  update(done: number, total: number): void;
  /** The job ended: a drawn bar shows its last state and the line is ended. */
  done(): void;
}

export interface ProgressOptions {
  /** How long a job runs before its bar appears (default 250 ms). */
  delayMs?: number;
}

export const PROGRESS_DELAY_MS = 250;

/** "999", "12.3K", "4.5M": short counts for the bar. */
function count(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}K`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

/** The bar's line, at most `columns - 1` wide so that "\r" can redraw it without wrapping. */
export function renderProgress(label: string, done: number, total: number, columns: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const tail = ` ${Math.floor(fraction * 100)}% ${count(done)}/${count(total)} chars`;
  // name + " [" + bar + "]" + tail; the name gives way before the bar shrinks below 5.
  const room = Math.max(0, columns - 1 - tail.length - 3);
  const width = Math.max(5, Math.min(40, room - label.length));
  const name = label.length + width <= room ? label : label.slice(0, Math.max(0, room - width - 1)) + '…';
  const filled = Math.round(width * fraction);
  return `${name} [${'#'.repeat(filled)}${' '.repeat(width - filled)}]${tail}`;
}

export function progressBar(label: string, stream: ProgressStream = process.stderr, options: ProgressOptions = {}): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let done = 0;
  let total = 0;
  let shown = false;
  let finished = false;
  let last = '';
  const draw = (): void => {
    const line = renderProgress(label, done, total, stream.columns ?? 80);
    if (line === last) return;
    // "\x1b[K" clears what a longer previous line left behind.
    stream.write(`\r${line}\x1b[K`);
    last = line;
  };
  const timer = setTimeout(() => {
    if (finished) return;
    shown = true;
    draw();
  }, options.delayMs ?? PROGRESS_DELAY_MS);
  timer.unref();
  return {
    update(d, t) {
      done = d;
      total = t;
      if (shown) draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (!shown) return;
      draw();
      stream.write('\n');
    },
  };
}
