// Minimal edit from one text to another with diff-match-patch, expressed as the Infinote
// operations that turn the first into the second. diff-match-patch counts UTF-16 units and
// may cut a surrogate pair in two; the chunks are re-aligned to code-point boundaries before
// the positions are converted (units.ts), so an emoji is never half-deleted.
import DiffMatchPatch from 'diff-match-patch';
import { codePointLength } from './units.js';

/** One step of a minimal edit, positions and lengths in code points, each relative to the
 * text as left by the steps before it. */
export type EditStep =
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'insert'; pos: number; text: string };

interface Chunk {
  equal: string;
  del: string;
  ins: string;
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Groups diff-match-patch output into (equal run, deleted text, inserted text) chunks. */
function chunksOf(diffs: Array<[number, string]>): { chunks: Chunk[]; tail: string } {
  const chunks: Chunk[] = [];
  let cur: Chunk = { equal: '', del: '', ins: '' };
  for (const [op, text] of diffs) {
    if (op === DiffMatchPatch.DIFF_EQUAL) {
      if (cur.del || cur.ins) {
        chunks.push(cur);
        cur = { equal: text, del: '', ins: '' };
      } else {
        cur.equal += text;
      }
    } else if (op === DiffMatchPatch.DIFF_DELETE) {
      cur.del += text;
    } else {
      cur.ins += text;
    }
  }
  if (cur.del || cur.ins) {
    chunks.push(cur);
    return { chunks, tail: '' };
  }
  return { chunks, tail: cur.equal };
}

/** Moves surrogate halves out of equal runs into the neighbouring edits so that every edit
 * starts and ends on a code-point boundary in both texts. */
function alignSurrogates(chunks: Chunk[], tail: string): { chunks: Chunk[]; tail: string } {
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    if (c.equal.length > 0 && isHigh(c.equal.charCodeAt(c.equal.length - 1))) {
      const h = c.equal[c.equal.length - 1];
      c.equal = c.equal.slice(0, -1);
      c.del = h + c.del;
      c.ins = h + c.ins;
    }
    const next = i + 1 < chunks.length ? chunks[i + 1].equal : tail;
    if (next.length > 0 && isLow(next.charCodeAt(0))) {
      const l = next[0];
      c.del += l;
      c.ins += l;
      if (i + 1 < chunks.length) chunks[i + 1].equal = next.slice(1);
      else tail = next.slice(1);
    }
  }
  // An equal run emptied by the moves joins two edits into one.
  const merged: Chunk[] = [];
  for (const c of chunks) {
    const last = merged[merged.length - 1];
    if (last && c.equal === '') {
      last.del += c.del;
      last.ins += c.ins;
    } else {
      merged.push({ ...c });
    }
  }
  return { chunks: merged, tail };
}

/**
 * The minimal sequence of deletions and insertions that turns `from` into `to`. Text that is
 * unchanged is never deleted and re-inserted, so it keeps its authors. Applying the steps in
 * order to `from` yields exactly `to`.
 */
export function minimalEdit(from: string, to: string, timeoutSeconds = 2): EditStep[] {
  if (from === to) return [];
  const dmp = new DiffMatchPatch();
  dmp.Diff_Timeout = timeoutSeconds;
  const diffs = dmp.diff_main(from, to);
  const grouped = chunksOf(diffs);
  const { chunks } = alignSurrogates(grouped.chunks, grouped.tail);
  const steps: EditStep[] = [];
  let pos = 0; // code points, in the text as edited so far
  for (const c of chunks) {
    pos += codePointLength(c.equal);
    // Drop a common prefix/suffix the surrogate re-alignment may have created.
    let del = c.del;
    let ins = c.ins;
    let shift = 0;
    while (del.length > 0 && ins.length > 0) {
      const a = del.codePointAt(0)!;
      if (a !== ins.codePointAt(0)) break;
      const w = a > 0xffff ? 2 : 1;
      del = del.slice(w);
      ins = ins.slice(w);
      shift++;
    }
    while (del.length > 0 && ins.length > 0) {
      const a = lastCodePoint(del);
      if (a !== lastCodePoint(ins)) break;
      const w = a > 0xffff ? 2 : 1;
      del = del.slice(0, -w);
      ins = ins.slice(0, -w);
    }
    pos += shift;
    const delLen = codePointLength(del);
    if (delLen > 0) steps.push({ kind: 'delete', pos, len: delLen });
    if (ins.length > 0) steps.push({ kind: 'insert', pos, text: ins });
    pos += codePointLength(ins) + codePointLength(c.del) - codePointLength(del) - shift;
  }
  return steps;
}

function lastCodePoint(s: string): number {
  const c = s.charCodeAt(s.length - 1);
  if (isLow(c) && s.length >= 2 && isHigh(s.charCodeAt(s.length - 2))) return s.codePointAt(s.length - 2)!;
  return c;
}
