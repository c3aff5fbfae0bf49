// The one place where JavaScript string offsets (UTF-16 code units) and Infinote offsets
// (Unicode code points, protocol.md §5.5) are converted. Every other module of the client
// either works in code points only (the protocol side) or in UTF-16 units only (the public
// TextDocument API); they meet here.

/** Number of Unicode code points in `text` (a lone surrogate counts as one, as in UTF-8 with
 * replacement: the wire cannot carry it anyway). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Code-point offset of UTF-16 offset `unit` in `text`. An offset that falls between the two
 * halves of a surrogate pair is rounded down to the start of the pair. */
export function unitsToCodePoints(text: string, unit: number): number {
  if (unit < 0 || unit > text.length || !Number.isInteger(unit)) {
    throw new RangeError(`offset ${unit} is outside the text (0..${text.length} UTF-16 units)`);
  }
  let n = 0;
  for (let i = 0; i < unit; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        if (i + 1 === unit) return n;
        i++;
      }
    }
    n++;
  }
  return n;
}

/** UTF-16 offset of code-point offset `cp` in `text`. */
export function codePointsToUnits(text: string, cp: number): number {
  if (cp < 0 || !Number.isInteger(cp)) throw new RangeError(`position ${cp} is not a valid character offset`);
  let i = 0;
  for (let n = 0; n < cp; n++) {
    if (i >= text.length) {
      throw new RangeError(`position ${cp} is beyond the end of the text (${codePointLength(text)} characters)`);
    }
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    i++;
  }
  return i;
}

/** Converts a UTF-16 range [start, start+length) of `text` to a code-point range. */
export function unitRangeToCodePoints(text: string, start: number, length: number): { pos: number; len: number } {
  const pos = unitsToCodePoints(text, start);
  const end = unitsToCodePoints(text, Math.min(text.length, start + length));
  return { pos, len: end - pos };
}

/** Converts a code-point range of `text` to a UTF-16 range. */
export function codePointRangeToUnits(text: string, pos: number, len: number): { start: number; length: number } {
  const start = codePointsToUnits(text, pos);
  const end = codePointsToUnits(text, pos + len);
  return { start, length: end - start };
}
