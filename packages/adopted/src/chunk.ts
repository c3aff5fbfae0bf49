/**
 * Author-segmented text (libinftext's InfTextChunk). Positions and lengths count Unicode code
 * points, as libinfinity does for a UTF-8 buffer (g_utf8_strlen), never UTF-16 units.
 */
import type { UserId } from './state-vector.js';

/** A run of text written by one author (author 0 = nobody). */
export interface Segment {
  readonly author: UserId;
  readonly text: string;
}

/** Finds a high surrogate; a regular expression scans far faster than a loop (instantly in a Latin-1 string). */
const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** Number of code points in a JS string (a surrogate pair counts once, a lone surrogate once). */
export function cpLength(s: string): number {
  let n = s.length;
  if (!HIGH_SURROGATE.test(s)) return n;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** UTF-16 offset of code point index `cp` in `s` (cp may equal the code point length). */
export function cpToUnit(s: string, cp: number, cps: number): number {
  if (cps === s.length) return cp;
  let i = 0;
  for (let k = 0; k < cp; k++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      i += d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
    } else {
      i++;
    }
  }
  return i;
}

interface Run {
  author: UserId;
  text: string;
  cps: number;
}

/** Immutable author-segmented text; adjacent runs of the same author are always merged. */
export class Chunk {
  static readonly empty = new Chunk([], 0);

  private constructor(
    private readonly runs: readonly Run[],
    /** Length in code points. */
    readonly length: number,
  ) {}

  static fromText(text: string, author: UserId): Chunk {
    if (text === '') return Chunk.empty;
    const cps = cpLength(text);
    return new Chunk([{ author, text, cps }], cps);
  }

  static fromSegments(segments: Iterable<Segment>): Chunk {
    const b = new ChunkBuilder();
    for (const s of segments) b.append(s.author, s.text, cpLength(s.text));
    return b.build();
  }

  get text(): string {
    let s = '';
    for (const r of this.runs) s += r.text;
    return s;
  }

  /** Maximal runs of equal author, in order. */
  segments(): Segment[] {
    return this.runs.map((r) => ({ author: r.author, text: r.text }));
  }

  /** Authors and code point lengths of each run (used by the buffer to insert without recounting). */
  forEachRun(fn: (author: UserId, text: string, cps: number) => void): void {
    for (const r of this.runs) fn(r.author, r.text, r.cps);
  }

  /** The `len` code points from `begin` (inf_text_chunk_substring). */
  substring(begin: number, len: number): Chunk {
    if (begin === 0 && len === this.length) return this;
    const b = new ChunkBuilder();
    let pos = 0;
    const end = begin + len;
    for (const r of this.runs) {
      const rEnd = pos + r.cps;
      if (rEnd > begin && pos < end) {
        const from = Math.max(begin, pos) - pos;
        const to = Math.min(end, rEnd) - pos;
        b.appendSlice(r, from, to);
      }
      pos = rEnd;
      if (pos >= end) break;
    }
    return b.build();
  }

  /** This chunk without the `len` code points from `begin` (inf_text_chunk_erase). */
  erase(begin: number, len: number): Chunk {
    if (len === 0) return this;
    return this.substring(0, begin).concat(this.substring(begin + len, this.length - begin - len));
  }

  concat(other: Chunk): Chunk {
    if (other.length === 0) return this;
    if (this.length === 0) return other;
    const b = new ChunkBuilder();
    for (const r of this.runs) b.append(r.author, r.text, r.cps);
    for (const r of other.runs) b.append(r.author, r.text, r.cps);
    return b.build();
  }

  equals(other: Chunk): boolean {
    if (this.length !== other.length || this.runs.length !== other.runs.length) return false;
    for (let i = 0; i < this.runs.length; i++) {
      if (this.runs[i]!.author !== other.runs[i]!.author || this.runs[i]!.text !== other.runs[i]!.text) return false;
    }
    return true;
  }
}

/** Accumulates runs, merging neighbours of the same author. */
export class ChunkBuilder {
  private runs: Run[] = [];
  private length = 0;

  append(author: UserId, text: string, cps: number): void {
    if (cps === 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.author === author) {
      last.text += text;
      last.cps += cps;
    } else {
      this.runs.push({ author, text, cps });
    }
    this.length += cps;
  }

  /** Appends code points [from, to) of a run. */
  appendSlice(r: { author: UserId; text: string; cps: number }, from: number, to: number): void {
    if (to <= from) return;
    if (from === 0 && to === r.cps) {
      this.append(r.author, r.text, r.cps);
      return;
    }
    const a = cpToUnit(r.text, from, r.cps);
    const b = cpToUnit(r.text, to, r.cps);
    this.append(r.author, r.text.slice(a, b), to - from);
  }

  build(): Chunk {
    if (this.length === 0) return Chunk.empty;
    return makeChunk(this.runs, this.length);
  }
}

// The constructor is private to keep the merged-runs invariant; the builder is the one other door.
const makeChunk = (runs: Run[], length: number): Chunk =>
  new (Chunk as unknown as new (runs: Run[], length: number) => Chunk)(runs, length);
