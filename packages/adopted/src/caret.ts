/**
 * Caret and selection adjustment, case for case and bit for bit as libinfinity 0.7.2 does it
 * (inf_text_move_operation_transform_insert/_delete). A selection is the caret plus a signed
 * length: negative means the selection extends backwards from the caret.
 *
 * libinfinity keeps the caret unsigned (guint), the length signed (gint), and computes the far
 * end of the selection as their unsigned 32-bit sum; so both functions work modulo 2^32 and read
 * lengths back as signed 32-bit numbers. That matters because the deletion case below can give a
 * selection that ends before the start of the text: its far end then wraps around to about 2^32,
 * later insertions treat it as a forward selection reaching almost to 2^32, and it may wrap back
 * into range. libinfinity clients compute the same for every user, the server sends it in
 * synchronisations, and a move transformed that way succeeds or fails as it does in libinfinity.
 */

const u32 = (x: number): number => x >>> 0;
const i32 = (x: number): number => x | 0;

/**
 * Adjusts a caret/selection for `len` code points inserted at `pos`. With left gravity a collapsed
 * caret at `pos` stays put (remote inserts); without it moves behind the text (the inserter's own).
 * A selection never grows by text inserted at its bounds.
 */
export function transformCaretInsert(pos: number, len: number, caret: number, selection: number, leftGravity: boolean): [number, number] {
  let c = u32(caret);
  let b = u32(caret + selection);
  if (c === b) {
    if (pos < c || (pos === c && !leftGravity)) {
      c = u32(c + len);
      b = u32(b + len);
    }
  } else if (b > c) {
    if (pos <= c) {
      c = u32(c + len);
      b = u32(b + len);
    } else if (pos < b) {
      b = u32(b + len);
    }
  } else if (pos <= b) {
    c = u32(c + len);
    b = u32(b + len);
  } else if (pos < c) {
    c = u32(c + len);
  }
  return [c, i32(i32(b) - i32(c))];
}

/**
 * Adjusts a caret/selection for `len` code points deleted at `pos`. The caret moves like any
 * position. The selection is right in every case but one on each side: when the deletion starts
 * inside the selection and runs past its far end, libinfinity gives the new length with the wrong
 * sign. A backward selection whose caret end is deleted then points forward past the caret, and a
 * forward one points backward, possibly to before the start of the text.
 */
export function transformCaretDelete(pos: number, len: number, caret: number, selection: number): [number, number] {
  const end = u32(pos + len);
  const c = u32(caret);
  const newCaret = c >= end ? u32(c - len) : c > pos ? pos : c;
  const bound = u32(c + selection);
  let s: number;
  if (selection < 0) {
    if (end <= bound || pos >= c) s = selection;
    else if (pos <= bound && end >= c) s = 0;
    else if (pos <= bound) s = -i32(u32(c - end));
    // The deletion starts inside the selection and takes its caret end: libinfinity's sign.
    else if (end > c) s = i32(u32(pos - bound));
    else s = i32(selection + len);
  } else {
    if (end <= c || pos >= bound) s = selection;
    else if (pos <= c && end >= bound) s = 0;
    else if (pos <= c) s = i32(u32(bound - end));
    // The deletion starts inside the selection and takes its far end: libinfinity's sign.
    else if (end > bound) s = i32(u32(c - pos));
    else s = i32(selection - len);
  }
  return [newCaret, s];
}
