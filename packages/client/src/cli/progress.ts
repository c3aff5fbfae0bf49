// A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes
// stay clean).
export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  let last = -1;
  return {
    update(done, total) {
      if (total < 32) return; // short jobs finish before a bar would be readable
      const pct = Math.floor((done / total) * 100);
      if (pct === last) return;
      last = pct;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 20));
      const filled = Math.round((width * done) / total);
      stream.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}%`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
