// The public editing API over a session proxy. JavaScript callers think in string indices
// (UTF-16 units); the session and the wire think in code points. Every conversion goes through
// text/units.ts, here and nowhere else.
import { Emitter } from './emitter.js';
import { ClientError } from './errors.js';
import type { BufferChange, SessionProxy, SessionUser } from './session.js';
import { minimalEdit, type EditStep } from './text/minimal-edit.js';
import { OffsetIndex, alignToCodePoint, codePointLength } from './text/units.js';

/** A user of the document. */
export interface User {
  readonly id: number;
  readonly name: string;
  readonly status: 'active' | 'inactive' | 'unavailable';
  readonly hue: number;
}

/** A run of text written by one user (`author` undefined: nobody, e.g. text loaded from a file). */
export interface TextSegment {
  readonly text: string;
  readonly author: User | undefined;
}

/** A change of the text, in string indices of `document.text` before the change. */
export type TextChange =
  | { kind: 'insert'; index: number; text: string; author: User; local: boolean }
  | { kind: 'delete'; index: number; length: number; text: string; author: User; local: boolean };

export interface TextDocumentEvents {
  change: [change: TextChange];
  'user-joined': [user: User];
  'user-left': [user: User];
  closed: [reason: Error | undefined];
}

const snapshot = (u: SessionUser): User => ({ id: u.id, name: u.name, status: u.status, hue: u.hue });

export class TextDocument extends Emitter<TextDocumentEvents> {
  private mirror: string;
  /** Offsets of `mirror` in code points and UTF-16 units (rebuilt, cheaply, with every change). */
  private offsets: OffsetIndex;

  constructor(
    /** Full path of the document, e.g. "/notes/todo". */
    readonly path: string,
    private readonly session: SessionProxy,
    private readonly onClose: () => void,
  ) {
    super();
    this.mirror = session.text();
    this.offsets = new OffsetIndex(this.mirror);
    session.on('change', (change, user, local) => this.applied(change, user, local));
    session.on('user-joined', (u) => this.emit('user-joined', snapshot(u)));
    session.on('user-left', (u) => this.emit('user-left', snapshot(u)));
    session.on('closed', (reason) => this.emit('closed', reason));
  }

  /** The current text. */
  get text(): string {
    return this.mirror;
  }

  /** Length in characters (code points), as the protocol and Gobby count. */
  get characters(): number {
    return this.offsets.characters;
  }

  /** Who wrote what: the text as runs by author, in order (joined, they equal `text`). */
  segments(): TextSegment[] {
    return this.session.segments().map((seg) => {
      const user = this.session.users.get(seg.author);
      return { text: seg.text, author: user ? snapshot(user) : undefined };
    });
  }

  /** Every user the session knows, including those who left (status "unavailable"). */
  get users(): User[] {
    return [...this.session.users.values()].map(snapshot);
  }

  /** The user this client joined as, if it joined. */
  get user(): User | undefined {
    const me = this.session.me;
    return me ? snapshot(me) : undefined;
  }

  /** The local user's caret and selection length, in string indices. */
  get caret(): { index: number; selection: number } {
    const me = this.session.me;
    if (!me) return { index: 0, selection: 0 };
    const index = this.offsets.toUnits(Math.min(me.caret, this.characters));
    const end = this.offsets.toUnits(Math.max(0, Math.min(me.caret + me.selection, this.characters)));
    return { index, selection: end - index };
  }

  /** Joins the document as a named user (a user who left is rejoined under the same id). */
  async join(name: string, options: { hue?: number; retry?: boolean } = {}): Promise<User> {
    return snapshot(await this.session.join(name, options));
  }

  /** Inserts `text` at string index `index`; resolves once the server has relayed it. */
  async insert(index: number, text: string): Promise<void> {
    if (text.length === 0) return;
    this.checkIndex(index);
    this.session.send({ kind: 'insert', pos: this.offsets.toCodePoints(index), text });
    await this.session.flush();
  }

  /** Deletes `length` string units from `index`, widened to every character the range touches
   * (a range that starts or ends inside a surrogate pair takes the whole pair). */
  async delete(index: number, length: number): Promise<void> {
    this.checkIndex(index);
    if (!Number.isInteger(length) || length < 0 || index + length > this.mirror.length) {
      throw new RangeError(`cannot delete ${length} units at ${index}: the text has ${this.mirror.length}`);
    }
    // Widened to whole characters: a start inside a pair moves down, an end inside one up.
    const pos = this.offsets.toCodePoints(index, 'down');
    const len = length === 0 ? 0 : this.offsets.toCodePoints(index + length, 'up') - pos;
    if (len === 0) return;
    this.session.send({ kind: 'delete', pos, len });
    await this.session.flush();
  }

  /**
   * Replaces the whole text by the minimal change (diff-match-patch), so that unchanged text keeps
   * its authors. Every step is sent at once, against the text as it is now (a remote change that
   * arrives meanwhile is transformed by the engine like any concurrent edit). `onProgress(done,
   * total)` counts characters inserted and deleted as the server confirms them, for progress bars.
   */
  async setText(next: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    const steps = splitLargeInserts(minimalEdit(this.mirror, next));
    if (steps.length === 0) return;
    const weight = (step: EditStep): number => (step.kind === 'insert' ? codePointLength(step.text) : step.len);
    const total = steps.reduce((n, step) => n + weight(step), 0);
    // Directory round trips after every PROGRESS_STEP characters: the server answers them in
    // order, each once it has executed the requests sent before it.
    const confirmations: Promise<void>[] = [];
    let sent = 0;
    let unconfirmed = 0;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (step.kind === 'insert') this.session.send({ kind: 'insert', pos: step.pos, text: step.text });
      else this.session.send({ kind: 'delete', pos: step.pos, len: step.len });
      sent += weight(step);
      unconfirmed += weight(step);
      if (i === steps.length - 1 || (onProgress && unconfirmed >= PROGRESS_STEP)) {
        const done = sent;
        confirmations.push(this.session.flush().then(() => onProgress?.(done, total)));
        unconfirmed = 0;
      }
    }
    await Promise.all(confirmations);
  }

  /** Undoes the local user's most recent change (only its own, as in adOPTed). */
  async undo(): Promise<void> {
    if (!this.session.canUndo()) throw new ClientError('REQUEST_FAILED', 'there is nothing to undo');
    this.session.send({ kind: 'undo' });
    await this.session.flush();
  }

  async redo(): Promise<void> {
    if (!this.session.canRedo()) throw new ClientError('REQUEST_FAILED', 'there is nothing to redo');
    this.session.send({ kind: 'redo' });
    await this.session.flush();
  }

  canUndo(): boolean {
    return this.session.canUndo();
  }

  canRedo(): boolean {
    return this.session.canRedo();
  }

  /** Moves the local caret (and selection, negative = backwards), shown to others as in Gobby. */
  async setCaret(index: number, selection = 0): Promise<void> {
    this.checkIndex(index);
    const caret = this.offsets.toCodePoints(index);
    const end = this.offsets.toCodePoints(Math.max(0, Math.min(this.mirror.length, index + selection)));
    this.session.send({ kind: 'move', caret, selection: end - caret });
    await this.session.flush();
  }

  /** Resolves once the server has relayed everything sent so far. */
  flush(): Promise<void> {
    return this.session.flush();
  }

  /** Leaves the document (the server marks our user unavailable). */
  close(): void {
    this.session.leave();
    this.onClose();
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index > this.mirror.length) {
      throw new RangeError(`index ${index} is outside the text (0..${this.mirror.length})`);
    }
  }

  /** Mirrors an executed change into the string and reports it in string indices. */
  private applied(change: BufferChange, user: SessionUser, local: boolean): void {
    const author = snapshot(user);
    if (change.kind === 'insert') {
      const index = this.offsets.toUnits(change.pos);
      const inserted = codePointLength(change.text);
      this.mirror = this.mirror.slice(0, index) + change.text + this.mirror.slice(index);
      this.offsets = new OffsetIndex(this.mirror, this.offsets.characters + inserted, { cp: change.pos + inserted, unit: index + change.text.length });
      this.emit('change', { kind: 'insert', index, text: change.text, author, local });
    } else {
      const start = this.offsets.toUnits(change.pos);
      const length = this.offsets.toUnits(change.pos + change.len) - start;
      const text = this.mirror.slice(start, start + length);
      this.mirror = this.mirror.slice(0, start) + this.mirror.slice(start + length);
      this.offsets = new OffsetIndex(this.mirror, this.offsets.characters - change.len, { cp: change.pos, unit: start });
      this.emit('change', { kind: 'delete', index: start, length, text, author, local });
    }
  }
}

/** Inserts above this many UTF-16 units are sent as several requests, so that progress shows and
 * no single message approaches a server's stanza size limit. */
const MAX_INSERT = 8192;

/** Characters sent between two progress confirmations. */
const PROGRESS_STEP = 8192;

function splitLargeInserts(steps: EditStep[]): EditStep[] {
  const out: EditStep[] = [];
  for (const step of steps) {
    if (step.kind !== 'insert' || step.text.length <= MAX_INSERT) {
      out.push(step);
      continue;
    }
    let pos = step.pos;
    let rest = step.text;
    while (rest.length > 0) {
      // Never split a surrogate pair.
      const cut = rest.length <= MAX_INSERT ? rest.length : alignToCodePoint(rest, MAX_INSERT, 'down');
      const piece = rest.slice(0, cut);
      out.push({ kind: 'insert', pos, text: piece });
      pos += codePointLength(piece);
      rest = rest.slice(cut);
    }
  }
  return out;
}
