/**
 * Crash journal of text documents: no edit the server has relayed is lost when tandemd dies
 * between two saves (infinoted loses everything since the last save).
 *
 * Beside a document file `doc.InfText` lives `doc.InfText.journal`, a redo log of what happened
 * to the buffer since a state that is on disk. It is JSON, one record a line:
 *
 *   {"journal":1,"base":"<hash>"}                 header: the journal starts at this state
 *   {"u":[id,"name",hue]}                          a user joined or changed colour
 *   {"i":[pos,[[author,"text"],...]]}              text inserted at pos (code points), by author
 *   {"e":[pos,len]}                                len code points erased at pos
 *   {"cp":"<hash>"}                                a save of this state began
 *
 * A record is appended (write(2), synchronously) after the engine executed a request and before
 * the request is relayed to anyone, so whatever any client has seen is in the file when the
 * process dies; fdatasync follows every `fsyncMs` (0: after every record) for power loss.
 * `<hash>` identifies a buffer state (authors and text). When a save completes, the journal is
 * cut down to what follows that save's checkpoint. Recovery loads the document file, finds the
 * last point of the journal whose hash is the file's, and applies what follows: so a crash in
 * the middle of a save, or between a save and the cut, neither loses nor doubles an edit. A
 * journal whose states do not include the file's (the file was replaced by hand, or written by
 * infinoted) is set aside as `.journal.orphaned-<time>` and reported, never applied.
 *
 * The name ends in ".journal", not ".Inf*", so infinoted and tandemd do not list it (§7.1).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Chunk, TextBuffer, type BufferChange } from '@tandem/adopted';
import type { StoredTextDocument, StoredUser } from './text-format.js';

export const JOURNAL_SUFFIX = '.journal';

/** What a text session writes to its journal (a no-op sink when journaling is off). */
export interface SessionJournal {
  /** A user joined, rejoined or changed its colour (authors need their names on recovery). */
  user(u: StoredUser): void;
  /** The buffer changes of one executed request, before it is relayed. */
  changes(changes: readonly BufferChange[]): void;
}

/** A stable identity of a buffer state: its merged author runs. */
export function contentHash(segments: readonly { author: number; text: string }[]): string {
  const h = createHash('sha256');
  let author = -1;
  let run = '';
  for (const s of segments) {
    if (s.text === '') continue;
    if (s.author === author) {
      run += s.text;
      continue;
    }
    if (run) h.update(`${author}:${run.length}:${run}`);
    author = s.author;
    run = s.text;
  }
  if (run) h.update(`${author}:${run.length}:${run}`);
  return h.digest('hex').slice(0, 32);
}

export interface JournalOptions {
  /** fdatasync interval in ms; 0 syncs after every record. */
  fsyncMs: number;
  log(line: string): void;
  /** Called (once until the next save) when a journal passes `compactBytes`: save the document. */
  tooLong?(): void;
  compactBytes?: number;
}

/** The journal of one loaded document. */
export class DocumentJournal implements SessionJournal {
  private fd: number | undefined;
  private bytes = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private asked = false;
  /** close() was called: nothing is written any more. */
  private closed = false;
  /**
   * A record could not be written (disk full, permissions): the file lacks it, so nothing more
   * may be appended (later records would apply to the wrong text) until a save of the whole
   * document replaces the journal.
   */
  private failed = false;
  /** Checkpoints appended and not yet cut, oldest first, with the byte offset after each. */
  private readonly checkpoints: { hash: string; end: number }[] = [];

  constructor(
    readonly file: string,
    /** The hash of the state last written to the document file. */
    private base: string,
    private readonly o: JournalOptions,
    /** Every user of the session, written after a new file's header (authors need names). */
    private readonly users: () => readonly StoredUser[],
  ) {}

  user(u: StoredUser): void {
    this.append({ u: [u.id, u.name, u.hue] });
  }

  /** False after a write failed, until the next completed save. */
  get writing(): boolean {
    return !this.failed;
  }

  changes(changes: readonly BufferChange[]): void {
    for (const c of changes) {
      if (c.type === 'insert') this.append({ i: [c.pos, c.segments.map((s) => [s.author, s.text])] });
      else if (c.type === 'erase') this.append({ e: [c.pos, c.length] });
    }
  }

  /** A save of `doc` begins: returns the checkpoint to pass to `saved` once it is on disk. */
  checkpoint(doc: StoredTextDocument): string {
    const hash = contentHash(doc.segments);
    if (this.failed) return hash;
    if (this.fd !== undefined) {
      this.append({ cp: hash });
      this.checkpoints.push({ hash, end: this.bytes });
    } else {
      // No file: nothing changed since the base, so this is the base (a file begun while the
      // save runs starts from it).
      this.base = hash;
    }
    return hash;
  }

  /**
   * The save of checkpoint `hash` is on disk: drop what precedes it. With nothing after it the
   * file goes; otherwise the rest is rewritten under a new header (temp file, fsync, rename).
   */
  saved(hash: string): void {
    this.asked = false;
    if (this.failed) {
      // The document file now holds everything; the incomplete journal goes, a new one begins.
      this.closeFd();
      try {
        removeJournal(this.file);
        this.failed = false;
        this.base = hash;
        this.checkpoints.length = 0;
        this.o.log(`Journal ${this.file}: the document is saved; journaling resumes`);
      } catch (err) {
        this.o.log(`Could not remove the incomplete journal ${this.file}: ${(err as Error).message}`);
      }
      return;
    }
    try {
      this.cut(hash);
    } catch (err) {
      // The journal is still whole (the cut replaces it by rename, or not at all): recovery finds
      // the checkpoint in it. Only its length is not reduced.
      this.o.log(`Could not shorten journal ${this.file}: ${(err as Error).message}`);
      // Offsets into a file that may have been replaced are not to be trusted for a later cut.
      this.checkpoints.length = 0;
      this.closeFd();
    }
  }

  private cut(hash: string): void {
    const i = this.checkpoints.findIndex((c) => c.hash === hash);
    if (this.fd === undefined || i < 0) {
      this.base = hash;
      return;
    }
    const { end } = this.checkpoints[i]!;
    this.checkpoints.splice(0, i + 1);
    this.base = hash;
    const size = fstatSync(this.fd).size;
    if (end >= size) {
      this.closeFd();
      unlinkSync(this.file);
      this.checkpoints.length = 0;
      return;
    }
    const tail = Buffer.alloc(size - end);
    readIntoSync(this.fd, tail, end);
    const header = Buffer.from(JSON.stringify({ journal: 1, base: hash }) + '\n');
    const tmp = join(dirname(this.file), `.tandem-journal-${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeAll(fd, header);
      writeAll(fd, tail);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.closeFd();
    this.fd = openSync(this.file, 'a+', 0o644);
    this.bytes = header.length + tail.length;
    const shift = end - header.length;
    for (const c of this.checkpoints) c.end -= shift;
  }

  /**
   * Stops writing (document unloaded or removed); the file stays for recovery unless removed.
   * Later changes are not written (a removed document's session may run on for a moment).
   */
  close(remove = false): void {
    this.closed = true;
    this.flush();
    this.closeFd();
    if (remove) removeJournal(this.file);
  }

  private closeFd(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.dirty = false;
  }

  private append(record: object): void {
    if (this.failed || this.closed) return;
    try {
      this.appendRecord(record);
    } catch (err) {
      // The edit is executed and is relayed all the same (refusing it now would leave the other
      // clients behind the server); only its crash safety is gone until the next save.
      this.failed = true;
      this.closeFd();
      this.o.log(`Journal ${this.file} cannot be written (${(err as Error).message}): edits of this document are in memory only until it is saved`);
      this.o.tooLong?.();
    }
  }

  private appendRecord(record: object): void {
    if (this.fd === undefined) {
      this.fd = openSync(this.file, 'a+', 0o644);
      this.bytes = fstatSync(this.fd).size;
      if (this.bytes === 0) {
        this.write(JSON.stringify({ journal: 1, base: this.base }) + '\n');
        for (const u of this.users()) this.write(JSON.stringify({ u: [u.id, u.name, u.hue] }) + '\n');
      }
    }
    this.write(JSON.stringify(record) + '\n');
    if (this.o.fsyncMs <= 0) fdatasyncSync(this.fd);
    else if (!this.timer) {
      this.dirty = true;
      this.timer = setTimeout(() => this.flush(), this.o.fsyncMs);
      this.timer.unref();
    }
    if (!this.asked && this.o.tooLong && this.bytes > (this.o.compactBytes ?? 4 * 2 ** 20)) {
      this.asked = true;
      this.o.tooLong();
    }
  }

  private write(line: string): void {
    const buf = Buffer.from(line);
    writeAll(this.fd!, buf);
    this.bytes += buf.length;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined && this.dirty) {
      try {
        fdatasyncSync(this.fd);
      } catch (err) {
        this.o.log(`Could not sync journal ${this.file}: ${(err as Error).message}`);
      }
    }
    this.dirty = false;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

function readIntoSync(fd: number, buf: Buffer, position: number): void {
  for (let off = 0; off < buf.length; ) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new Error('journal shorter than expected');
    off += n;
  }
}

export function hasJournal(file: string): boolean {
  return existsSync(file);
}

/** Deletes a journal whose contents are on disk now. */
export function removeJournal(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface Recovery {
  doc: StoredTextDocument;
  /** Buffer changes applied from the journal. */
  applied: number;
  /** Set when the journal did not belong to the file and was set aside (its new name). */
  orphaned?: string;
}

/**
 * Applies `file`'s journal to `doc` (the document as read from disk). Returns undefined when there
 * is no journal. A torn last line (the process died in the middle of a write) is ignored.
 */
export function recoverFromJournal(file: string, doc: StoredTextDocument, now = Date.now()): Recovery | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const records: Record<string, unknown>[] = [];
  for (const line of lines) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      break; // a torn write is only ever the last line
    }
  }
  const hash = contentHash(doc.segments);
  // The last state in the journal that is the file's: header or checkpoint.
  let start = -1;
  records.forEach((r, i) => {
    if ((i === 0 && r.base === hash) || r.cp === hash) start = i + 1;
  });
  if (start < 0 || records[0]?.journal !== 1) {
    const aside = `${file}.orphaned-${now}`;
    renameSync(file, aside);
    return { doc, applied: 0, orphaned: aside };
  }
  const buffer = new TextBuffer(doc.segments);
  const users = new Map<number, StoredUser>(doc.users.map((u) => [u.id, u]));
  let applied = 0;
  for (const r of records.slice(start)) {
    if (Array.isArray(r.u)) {
      const [id, name, hue] = r.u as [number, string, number];
      users.set(id, { id, name, hue });
    } else if (Array.isArray(r.i)) {
      const [pos, runs] = r.i as [number, [number, string][]];
      buffer.insert(pos, Chunk.fromSegments(runs.map(([author, text]) => ({ author, text }))));
      applied++;
    } else if (Array.isArray(r.e)) {
      const [pos, len] = r.e as [number, number];
      buffer.erase(pos, len);
      applied++;
    }
  }
  return { doc: { users: [...users.values()], segments: buffer.segments() }, applied };
}
