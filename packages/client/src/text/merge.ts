// Three-way text merge for file sync: the changes from `base` to `local` (a saved file) applied
// onto `remote` (the document, which others edited meanwhile), so that neither side's edits are
// lost. Both sides are diffed against the base (diff-match-patch, semantic grouping, whole
// characters); the changed ranges of the base are then taken from whichever side changed them,
// as diff3 does. Positions come from the base, not from fuzzy matching, so a local edit lands
// exactly where it was made however much text others added in front of it.
import DiffMatchPatch from 'diff-match-patch';
import { alignedDiff } from './minimal-edit.js';

export interface MergeResult {
  /** `remote` with the local changes applied. */
  text: string;
  /** Local changes left out because others changed the same text (the remote version is kept); 0 = clean. */
  failed: number;
}

/** Base range [start, end) replaced by `text` (UTF-16 offsets of the base). */
interface Hunk {
  start: number;
  end: number;
  text: string;
}

function hunksOf(base: string, other: string): Hunk[] {
  const hunks: Hunk[] = [];
  let at = 0;
  for (const [op, text] of alignedDiff(base, other, { semantic: true })) {
    if (op === DiffMatchPatch.DIFF_EQUAL) {
      at += text.length;
      continue;
    }
    let last = hunks[hunks.length - 1];
    if (!last || last.end !== at) {
      last = { start: at, end: at, text: '' };
      hunks.push(last);
    }
    if (op === DiffMatchPatch.DIFF_DELETE) last.end = at += text.length;
    else last.text += text;
  }
  return hunks;
}

/** Whether `a` changes only base text before `b` (two insertions at one point are not ordered). */
function before(a: Hunk, b: Hunk): boolean {
  return a.end < b.start || (a.end === b.start && (a.start < a.end || b.start < b.end));
}

/** Applies the changes `base` -> `local` onto `remote`. */
export function mergeText(base: string, local: string, remote: string): MergeResult {
  if (local === base || local === remote) return { text: remote, failed: 0 };
  if (remote === base) return { text: local, failed: 0 };
  const ours = hunksOf(base, local);
  const theirs = hunksOf(base, remote);
  let text = '';
  let at = 0;
  let failed = 0;
  let i = 0;
  let j = 0;
  while (i < ours.length || j < theirs.length) {
    const l = ours[i];
    const r = theirs[j];
    let take: Hunk;
    if (!r || (l && before(l, r))) {
      take = l;
      i++;
    } else if (!l || before(r, l)) {
      take = r;
      j++;
    } else if (l.start === r.start && l.end === r.end && (l.text === r.text || l.start === l.end)) {
      // The same change on both sides is made once; two insertions at one point are both kept.
      take = l.text === r.text ? r : { start: r.start, end: r.end, text: r.text + l.text };
      i++;
      j++;
    } else {
      // Both changed the same text: the document's version stays, the local change is reported.
      failed++;
      i++;
      continue;
    }
    text += base.slice(at, take.start) + take.text;
    at = take.end;
  }
  return { text: text + base.slice(at), failed };
}
