/**
 * The author-segmented document (libinftext's InfTextDefaultBuffer), addressed in code points.
 *
 * Storage is a list of leaves, each a short list of pieces (author + text). An edit touches one or
 * two leaves, so its cost is bounded by the leaf size plus a scan over per-leaf lengths, never by
 * the document size in characters; a 10 MB document is a few thousand leaves.
 */
import { Chunk, ChunkBuilder, cpLength, cpToUnit, type Segment } from './chunk.js';
import type { UserId } from './state-vector.js';

interface Piece {
  author: UserId;
  text: string;
  cps: number;
}

interface Leaf {
  pieces: Piece[];
  cps: number;
}

/** Pieces grow by typing up to this many UTF-16 units before a new piece is started. */
const PIECE_UNITS = 1024;
/** A leaf is split in two once it holds more pieces than this. */
const LEAF_PIECES = 64;

export class TextBuffer {
  private leaves: Leaf[] = [];
  private total = 0;
  // Edits are local (people type in one place): remember where the last lookup ended.
  private hintLeaf = 0;
  private hintStart = 0;

  /**
   * The whole text as one string while the buffer is still what it was built from: the pieces
   * are slices of it, so `text` is there without a copy (for a big synchronised document, the
   * first thing a client asks for). Dropped by the first edit.
   */
  private whole: string | undefined;

  constructor(segments: Iterable<Segment> = []) {
    const list: Segment[] = [];
    for (const s of segments) if (s.text !== '') list.push(s);
    if (list.length === 0) return;
    // One string for all of it (one copy), then pieces sliced out of it.
    const whole = list.length === 1 ? list[0]!.text : list.map((s) => s.text).join('');
    let at = 0;
    for (const s of list) {
      this.appendRaw(s.author, list.length === 1 ? whole : whole.slice(at, at + s.text.length));
      at += s.text.length;
    }
    this.whole = whole;
  }

  /** Length in code points. */
  get length(): number {
    return this.total;
  }

  get text(): string {
    if (this.whole !== undefined) return this.whole;
    const parts: string[] = [];
    for (const leaf of this.leaves) for (const p of leaf.pieces) parts.push(p.text);
    return parts.join('');
  }

  /** Maximal runs of equal author, in document order. */
  segments(): Segment[] {
    const out: { author: UserId; text: string }[] = [];
    for (const leaf of this.leaves) {
      for (const p of leaf.pieces) {
        const last = out[out.length - 1];
        if (last && last.author === p.author) last.text += p.text;
        else out.push({ author: p.author, text: p.text });
      }
    }
    return out;
  }

  /** The text from `pos` of `len` code points with its authors (inf_text_buffer_get_slice). */
  slice(pos: number, len: number): Chunk {
    this.checkRange(pos, len);
    const b = new ChunkBuilder();
    if (len === 0) return b.build();
    let [li, start] = this.locate(pos);
    let off = pos - start;
    let left = len;
    while (left > 0) {
      const leaf = this.leaves[li]!;
      for (const p of leaf.pieces) {
        if (off >= p.cps) {
          off -= p.cps;
          continue;
        }
        const take = Math.min(p.cps - off, left);
        b.appendSlice(p, off, off + take);
        left -= take;
        off = 0;
        if (left === 0) break;
      }
      li++;
    }
    return b.build();
  }

  /** Inserts `chunk` (keeping its authors) before code point `pos`. */
  insert(pos: number, chunk: Chunk): void {
    this.whole = undefined;
    if (!Number.isInteger(pos) || pos < 0 || pos > this.total) throw new RangeError(`insert position ${pos} outside 0..${this.total}`);
    if (chunk.length === 0) return;
    if (this.leaves.length === 0) {
      this.leaves.push({ pieces: [], cps: 0 });
      this.hintLeaf = 0;
      this.hintStart = 0;
    }
    const [li, start] = this.locateForInsert(pos);
    const leaf = this.leaves[li]!;
    let off = pos - start;
    // Find the piece index at which to insert, splitting a piece if pos falls inside it.
    let pi = 0;
    while (pi < leaf.pieces.length && off > 0) {
      const p = leaf.pieces[pi]!;
      if (off < p.cps) {
        const cut = cpToUnit(p.text, off, p.cps);
        const tail: Piece = { author: p.author, text: p.text.slice(cut), cps: p.cps - off };
        p.text = p.text.slice(0, cut);
        p.cps = off;
        leaf.pieces.splice(pi + 1, 0, tail);
        pi++;
        off = 0;
        break;
      }
      off -= p.cps;
      pi++;
    }
    const fresh: Piece[] = [];
    chunk.forEachRun((author, text, cps) => fresh.push({ author, text, cps }));
    // Typing extends the previous piece instead of adding one piece per keystroke.
    const prev = pi > 0 ? leaf.pieces[pi - 1] : undefined;
    if (prev && fresh.length === 1 && prev.author === fresh[0]!.author && prev.text.length + fresh[0]!.text.length <= PIECE_UNITS) {
      prev.text += fresh[0]!.text;
      prev.cps += fresh[0]!.cps;
    } else {
      leaf.pieces.splice(pi, 0, ...fresh);
    }
    leaf.cps += chunk.length;
    this.total += chunk.length;
    if (leaf.pieces.length > LEAF_PIECES) this.splitLeaf(li);
  }

  /** Removes `len` code points from `pos` and returns them with their authors. */
  erase(pos: number, len: number): Chunk {
    this.whole = undefined;
    this.checkRange(pos, len);
    const b = new ChunkBuilder();
    if (len === 0) return b.build();
    let [li, start] = this.locate(pos);
    let off = pos - start;
    let left = len;
    while (left > 0) {
      const leaf = this.leaves[li]!;
      let pi = 0;
      let removedHere = 0;
      while (pi < leaf.pieces.length && left > 0) {
        const p = leaf.pieces[pi]!;
        if (off >= p.cps) {
          off -= p.cps;
          pi++;
          continue;
        }
        const take = Math.min(p.cps - off, left);
        b.appendSlice(p, off, off + take);
        if (off === 0 && take === p.cps) {
          leaf.pieces.splice(pi, 1);
        } else {
          const a = cpToUnit(p.text, off, p.cps);
          const z = cpToUnit(p.text, off + take, p.cps);
          p.text = p.text.slice(0, a) + p.text.slice(z);
          p.cps -= take;
          pi++;
        }
        left -= take;
        removedHere += take;
        off = 0;
      }
      leaf.cps -= removedHere;
      if (leaf.pieces.length === 0) this.leaves.splice(li, 1);
      else li++;
    }
    this.total -= len;
    this.hintLeaf = 0;
    this.hintStart = 0;
    return b.build();
  }

  private appendRaw(author: UserId, text: string): void {
    if (text === '') return;
    // Bulk loads are cut into pieces of bounded size so that later edits stay cheap.
    let i = 0;
    while (i < text.length) {
      let j = Math.min(text.length, i + PIECE_UNITS);
      const c = text.charCodeAt(j - 1);
      if (j < text.length && c >= 0xd800 && c <= 0xdbff) j--;
      const part = text.slice(i, j);
      let leaf = this.leaves[this.leaves.length - 1];
      if (!leaf || leaf.pieces.length >= LEAF_PIECES / 2) {
        leaf = { pieces: [], cps: 0 };
        this.leaves.push(leaf);
      }
      const cps = cpLength(part);
      const last = leaf.pieces[leaf.pieces.length - 1];
      if (last && last.author === author && last.text.length + part.length <= PIECE_UNITS) {
        last.text += part;
        last.cps += cps;
      } else {
        leaf.pieces.push({ author, text: part, cps });
      }
      leaf.cps += cps;
      this.total += cps;
      i = j;
    }
  }

  private splitLeaf(li: number): void {
    const leaf = this.leaves[li]!;
    const half = leaf.pieces.length >> 1;
    const moved = leaf.pieces.splice(half);
    let cps = 0;
    for (const p of moved) cps += p.cps;
    leaf.cps -= cps;
    this.leaves.splice(li + 1, 0, { pieces: moved, cps });
  }

  /** Leaf index and start offset of the leaf containing code point `pos` (pos < length). */
  private locate(pos: number): [number, number] {
    let li = 0;
    let start = 0;
    if (this.hintLeaf < this.leaves.length && this.hintStart <= pos) {
      li = this.hintLeaf;
      start = this.hintStart;
    }
    while (li < this.leaves.length - 1 && start + this.leaves[li]!.cps <= pos) {
      start += this.leaves[li]!.cps;
      li++;
    }
    this.hintLeaf = li;
    this.hintStart = start;
    return [li, start];
  }

  /** Like locate, but a position at a leaf boundary belongs to the leaf before it. */
  private locateForInsert(pos: number): [number, number] {
    let li = 0;
    let start = 0;
    if (this.hintLeaf < this.leaves.length && this.hintStart < pos) {
      li = this.hintLeaf;
      start = this.hintStart;
    }
    while (li < this.leaves.length - 1 && start + this.leaves[li]!.cps < pos) {
      start += this.leaves[li]!.cps;
      li++;
    }
    this.hintLeaf = li;
    this.hintStart = start;
    return [li, start];
  }

  private checkRange(pos: number, len: number): void {
    if (!Number.isInteger(pos) || !Number.isInteger(len) || pos < 0 || len < 0 || pos + len > this.total) {
      throw new RangeError(`range ${pos}+${len} outside 0..${this.total}`);
    }
  }
}
