// `tandem sync PATH FILE`: a document and a local file kept in step both ways. The file and the
// document each change on their own (an editor saves, others type), so every exchange is a
// three-way merge against `base`, the text the two last agreed on: a save is applied as a patch
// (base -> file) onto the document's current text, and the result is written back. Nothing
// either side did meanwhile is lost.
import { watch as watchFs, type FSWatcher } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TandemClient } from '../client.js';
import type { TextDocument } from '../text-document.js';
import { mergeText } from '../text/merge.js';
import type { Io } from './commands.js';
import { progressBar } from './progress.js';

/** Resolves after `seconds` (never, if undefined). */
export function forSeconds(seconds: number | undefined): Promise<undefined> {
  if (seconds === undefined) return new Promise(() => undefined);
  return new Promise((resolve) => setTimeout(() => resolve(undefined), seconds * 1000).unref());
}

/** Remote edits are written at most this often (ms): continuous typing cannot starve the file. */
const WRITE_INTERVAL_MS = 50;
/** A save is read once the file has been quiet this long (ms): editors write in several steps. */
const READ_QUIET_MS = 100;

/** Atomic write (temp file + rename) so an editor never reads half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tandem-${process.pid}`);
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

class FileSync {
  /** The text the file and the document last agreed on: the base of every merge. */
  private base = '';
  private queue: Promise<void> = Promise.resolve();
  private queued = false;
  private writeTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private docClosed = false;

  constructor(
    private readonly doc: TextDocument,
    private readonly file: string,
    private readonly io: Io,
  ) {}

  /** The first exchange (a non-empty file replaces the document, else the document is written to
   * the file), then both directions live. */
  async start(): Promise<void> {
    const initial = (await readIfExists(this.file)) ?? '';
    if (initial.length > 0) {
      await this.upload(initial);
      this.base = initial;
      // Edits made by others during the upload go to the file with the next exchange.
      if (this.doc.text !== initial) this.remoteChanged();
    } else {
      this.base = this.doc.text;
      await writeAtomically(this.file, this.base);
    }
    this.doc.on('change', (change) => {
      if (!change.local) this.remoteChanged();
    });
    this.doc.on('closed', () => {
      this.docClosed = true;
    });
    // Watch the directory: editors often save by replacing the file, which ends a watch on it.
    this.watcher = watchFs(dirname(this.file), (_event, name) => {
      if (name !== null && name !== basename(this.file)) return;
      clearTimeout(this.readTimer);
      this.readTimer = setTimeout(() => this.exchange(), READ_QUIET_MS);
    });
  }

  /** Stops watching and makes a last exchange, so that the file ends as the document. */
  async stop(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.readTimer);
    clearTimeout(this.writeTimer);
    this.exchange();
    await this.queue;
  }

  private remoteChanged(): void {
    this.writeTimer ??= setTimeout(() => {
      this.writeTimer = undefined;
      this.exchange();
    }, WRITE_INTERVAL_MS);
  }

  /** Queues one exchange (one is enough however many triggers arrive while it waits). */
  private exchange(): void {
    if (this.queued) return;
    this.queued = true;
    this.queue = this.queue
      .then(() => {
        this.queued = false;
        return this.reconcile();
      })
      .catch((err: Error) => {
        this.io.stderr.write(`tandem: sync: ${err.message}\n`);
      });
  }

  /**
   * Merges a local save into the document and writes the document to the file. A save that lands
   * while we merge is merged in the next round rather than overwritten.
   */
  private async reconcile(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const disk = await readIfExists(this.file);
      if (disk !== undefined && disk !== this.base) {
        // Once the session is gone there is nowhere to merge to: the file keeps the local save.
        if (this.docClosed) return;
        const merged = mergeText(this.base, disk, this.doc.text);
        if (merged.failed > 0) await this.keepConflict(disk, merged.failed);
        this.base = disk;
        await this.upload(merged.text);
      }
      const text = this.doc.text;
      if (text === disk) {
        this.base = text;
        return;
      }
      if ((await readIfExists(this.file)) !== disk) continue; // saved again meanwhile
      await writeAtomically(this.file, text);
      this.base = text;
      return;
    }
    throw new Error(`${this.file} keeps changing; will retry with the next change`);
  }

  private async upload(text: string): Promise<void> {
    const bar = progressBar(`sync ${this.doc.path}`, this.io.stderr, { delayMs: this.io.progressDelayMs });
    try {
      await this.doc.setText(text, (done, total) => bar.update(done, total));
    } finally {
      bar.done();
    }
  }

  /** Local changes whose context others changed at the same time cannot be placed: the saved
   * version is kept beside the file and the user is told. */
  private async keepConflict(disk: string, failed: number): Promise<void> {
    const copy = `${this.file}.conflict`;
    await writeFile(copy, disk, 'utf8');
    const what = failed === 1 ? 'a local change overlaps' : `${failed} local changes overlap`;
    this.io.stderr.write(`tandem: sync: ${what} with remote edits and was not applied; your version is in ${copy}\n`);
  }
}

/**
 * Two-way sync of document `path` and `file` until `forSeconds` pass, the user interrupts, or
 * the document goes away.
 */
export async function syncFile(
  client: TandemClient,
  path: string,
  file: string,
  options: { user: string; forSeconds: number | undefined; io: Io },
): Promise<number> {
  const { io } = options;
  const doc = await client.open(path, { create: true, user: options.user, retryName: true });
  const closed = new Promise<Error | undefined>((resolve) => doc.on('closed', resolve));
  const sync = new FileSync(doc, file, io);
  try {
    await sync.start();
    io.listening?.();
    const end = await Promise.race([io.interrupted.then(() => undefined), closed, forSeconds(options.forSeconds)]);
    await sync.stop();
    if (end) throw end;
    return 0;
  } finally {
    doc.close();
  }
}
