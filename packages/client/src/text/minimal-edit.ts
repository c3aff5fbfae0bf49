// Minimal edit from one text to another with diff-match-patch, expressed as the Infinote
// operations that turn the first into the second. diff-match-patch counts UTF-16 units and
// may cut a surrogate pair in two; every changed range is widened to code-point boundaries
// (units.ts) before the positions are converted, so an emoji is never half-deleted.
import DiffMatchPatch from 'diff-match-patch';
import { alignToCodePoint, codePointLength, splitsSurrogatePair } from './units.js';

/** One step of a minimal edit, positions and lengths in code points, each relative to the
 * text as left by the steps before it. */
export type EditStep =
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'insert'; pos: number; text: string };

/** A changed range: [from0, from1) of the old text became [to0, to1) of the new one (UTF-16). */
interface Hunk {
  from0: number;
  from1: number;
  to0: number;
  to1: number;
}

/** The changed ranges of a diff, each starting and ending on a code-point boundary of both
 * texts. The units moved into a hunk come from the equal runs around it, so they are the same
 * in both texts; hunks that come to touch are joined. */
function hunksOf(from: string, to: string, diffs: Array<[number, string]>): Hunk[] {
  const hunks: Hunk[] = [];
  let a = 0;
  let b = 0;
  for (const [op, text] of diffs) {
    if (op === DiffMatchPatch.DIFF_EQUAL) {
      a += text.length;
      b += text.length;
      continue;
    }
    let last = hunks[hunks.length - 1];
    if (!last || last.from1 !== a || last.to1 !== b) {
      last = { from0: a, from1: a, to0: b, to1: b };
      hunks.push(last);
    }
    if (op === DiffMatchPatch.DIFF_DELETE) last.from1 = a += text.length;
    else last.to1 = b += text.length;
  }
  const aligned: Hunk[] = [];
  for (const h of hunks) {
    if (splitsSurrogatePair(from, h.from0) || splitsSurrogatePair(to, h.to0)) {
      h.from0--;
      h.to0--;
    }
    if (splitsSurrogatePair(from, h.from1) || splitsSurrogatePair(to, h.to1)) {
      h.from1++;
      h.to1++;
    }
    const last = aligned[aligned.length - 1];
    if (last && h.from0 <= last.from1) {
      last.from1 = h.from1;
      last.to1 = h.to1;
    } else {
      aligned.push(h);
    }
  }
  return aligned;
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
  const steps: EditStep[] = [];
  // Everything left of the hunk being edited is already `to`: positions count in `to`.
  let pos = 0;
  let done = 0;
  for (const h of hunksOf(from, to, dmp.diff_main(from, to))) {
    let del = from.slice(h.from0, h.from1);
    let ins = to.slice(h.to0, h.to1);
    // Widening may have made both sides start or end alike (U+1F600 -> U+1F601 share their
    // high surrogate): keep only what differs, on whole characters.
    const common = dmp.diff_commonPrefix(del, ins);
    const prefix = Math.min(alignToCodePoint(del, common, 'down'), alignToCodePoint(ins, common, 'down'));
    del = del.slice(prefix);
    ins = ins.slice(prefix);
    const tail = dmp.diff_commonSuffix(del, ins);
    const suffix = Math.min(
      del.length - alignToCodePoint(del, del.length - tail, 'up'),
      ins.length - alignToCodePoint(ins, ins.length - tail, 'up'),
    );
    del = del.slice(0, del.length - suffix);
    ins = ins.slice(0, ins.length - suffix);
    pos += codePointLength(to.slice(done, h.to0 + prefix));
    done = h.to0 + prefix;
    if (del.length > 0) steps.push({ kind: 'delete', pos, len: codePointLength(del) });
    if (ins.length > 0) steps.push({ kind: 'insert', pos, text: ins });
  }
  return steps;
}

/**
 * The diff of `from` and `to` as diff-match-patch tuples whose boundaries all fall on whole
 * characters. `semantic` groups the changes as a reader would (diff_cleanupSemantic: no
 * coincidental one-letter matches inside a rewritten word), for merging rather than authorship.
 */
export function alignedDiff(from: string, to: string, options: { semantic?: boolean; timeoutSeconds?: number } = {}): Array<[number, string]> {
  const dmp = new DiffMatchPatch();
  dmp.Diff_Timeout = options.timeoutSeconds ?? 2;
  const raw = dmp.diff_main(from, to);
  if (options.semantic) dmp.diff_cleanupSemantic(raw);
  const diffs: Array<[number, string]> = [];
  let a = 0;
  for (const h of hunksOf(from, to, raw)) {
    if (h.from0 > a) diffs.push([DiffMatchPatch.DIFF_EQUAL, from.slice(a, h.from0)]);
    if (h.from1 > h.from0) diffs.push([DiffMatchPatch.DIFF_DELETE, from.slice(h.from0, h.from1)]);
    if (h.to1 > h.to0) diffs.push([DiffMatchPatch.DIFF_INSERT, to.slice(h.to0, h.to1)]);
    a = h.from1;
  }
  if (a < from.length) diffs.push([DiffMatchPatch.DIFF_EQUAL, from.slice(a)]);
  return diffs;
}
