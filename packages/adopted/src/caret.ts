/**
 * Caret and selection adjustment (inf_text_move_operation_transform_insert/_delete). A selection is
 * the caret plus a signed length: negative means the selection extends backwards from the caret.
 */

/**
 * Adjusts a caret/selection for `len` code points inserted at `pos`. With left gravity a collapsed
 * caret at `pos` stays put (remote inserts); without it moves behind the text (the inserter's own).
 */
export function transformCaretInsert(pos: number, len: number, caret: number, selection: number, leftGravity: boolean): [number, number] {
  let c = caret;
  let b = caret + selection;
  if (c === b) {
    if (pos < c || (pos === c && !leftGravity)) {
      c += len;
      b += len;
    }
  } else if (b > c) {
    if (pos <= c) {
      c += len;
      b += len;
    } else if (pos < b) {
      b += len;
    }
  } else {
    if (pos <= b) {
      c += len;
      b += len;
    } else if (pos < c) {
      c += len;
    }
  }
  return [c, b - c];
}

/**
 * Adjusts a caret/selection for `len` code points deleted at `pos`. Both ends move like positions,
 * so a backward selection keeps its sign (libinfinity 0.7 flips it in some overlaps and then
 * rejects the move; we do not copy that).
 */
export function transformCaretDelete(pos: number, len: number, caret: number, selection: number): [number, number] {
  const c = shiftForDelete(pos, len, caret);
  const b = shiftForDelete(pos, len, caret + selection);
  return [c, b - c];
}

function shiftForDelete(pos: number, len: number, p: number): number {
  if (p >= pos + len) return p - len;
  if (p > pos) return pos;
  return p;
}
