// The one place where JavaScript string offsets (UTF-16 code units) and Infinote offsets
// (Unicode code points, protocol.md §5.5) are converted, and the one place that knows what a
// surrogate pair is. Every other module of the client either works in code points only (the
// protocol side) or in UTF-16 units only (the public TextDocument API, diff-match-patch); they
// meet here.

import { cpLength } from '@tandem/adopted';

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Whether UTF-16 offset `unit` falls between the two halves of a surrogate pair of `text`
 * (a lone surrogate is a character of its own: no offset splits it). */
export function splitsSurrogatePair(text: string, unit: number): boolean {
  return unit > 0 && unit < text.length && isHigh(text.charCodeAt(unit - 1)) && isLow(text.charCodeAt(unit));
}

/** `unit` moved to the nearest code-point boundary of `text`: down (to the start of the pair it
 * splits) or up (past it). Offsets on a boundary are returned as they are. */
export function alignToCodePoint(text: string, unit: number, direction: 'down' | 'up'): number {
  if (!splitsSurrogatePair(text, unit)) return unit;
  return direction === 'down' ? unit - 1 : unit + 1;
}

/** Number of Unicode code points in `text` (a lone surrogate counts as one, as in UTF-8 with
 * replacement: the wire cannot carry it anyway): the engine's count. */
export function codePointLength(text: string): number {
  return cpLength(text);
}

/** Code-point offset of UTF-16 offset `unit` in `text`. An offset that falls between the two
 * halves of a surrogate pair is rounded down to the start of the pair (or, with `'up'`, to its
 * end). */
export function unitsToCodePoints(text: string, unit: number, round: 'down' | 'up' = 'down'): number {
  if (unit < 0 || unit > text.length || !Number.isInteger(unit)) {
    throw new RangeError(`offset ${unit} is outside the text (0..${text.length} UTF-16 units)`);
  }
  return codePointLength(text.slice(0, alignToCodePoint(text, unit, round)));
}

/** UTF-16 offset of code-point offset `cp` in `text`. */
export function codePointsToUnits(text: string, cp: number): number {
  if (cp < 0 || !Number.isInteger(cp)) throw new RangeError(`position ${cp} is not a valid character offset`);
  let i = 0;
  for (let n = 0; n < cp; n++) {
    if (i >= text.length) {
      throw new RangeError(`position ${cp} is beyond the end of the text (${codePointLength(text)} characters)`);
    }
    if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i++;
    i++;
  }
  return i;
}

/** Converts a UTF-16 range [start, start+length) of `text` to a code-point range, widened to
 * every character the range touches: a start inside a surrogate pair moves to the pair's start,
 * an end inside one to the pair's end. An empty range stays empty. */
export function unitRangeToCodePoints(text: string, start: number, length: number): { pos: number; len: number } {
  const end = Math.min(text.length, start + length);
  const pos = unitsToCodePoints(text, start, 'down');
  if (length <= 0) return { pos, len: 0 };
  return { pos, len: unitsToCodePoints(text, end, 'up') - pos };
}

/** Converts a code-point range of `text` to a UTF-16 range. */
export function codePointRangeToUnits(text: string, pos: number, len: number): { start: number; length: number } {
  const start = codePointsToUnits(text, pos);
  const end = codePointsToUnits(text, pos + len);
  return { start, length: end - start };
}

/**
 * The offsets of one text in both units, converted faster than by a scan from the start: each
 * conversion scans from the nearest point it knows (the start, the end, or the last point it
 * converted or was given), so edits near each other or near the end of a long text (typing,
 * uploads, remote changes) cost what lies between them, not the whole text.
 */
export class OffsetIndex {
  private cp = 0;
  private unit = 0;

  constructor(
    readonly text: string,
    /** Code points in `text`, when the caller knows them. */
    readonly characters: number = codePointLength(text),
    /** A known pair of offsets of `text`, both on the same code-point boundary. */
    near?: { cp: number; unit: number },
  ) {
    if (near) {
      this.cp = near.cp;
      this.unit = near.unit;
    }
  }

  /** UTF-16 offset of code-point offset `cp` (as codePointsToUnits). */
  toUnits(cp: number): number {
    if (cp < 0 || !Number.isInteger(cp)) throw new RangeError(`position ${cp} is not a valid character offset`);
    if (cp > this.characters) throw new RangeError(`position ${cp} is beyond the end of the text (${this.characters} characters)`);
    const [n, i] = this.nearest(cp, 0);
    return this.walk(n, i, (at) => at[0] - cp)[1];
  }

  /** Code-point offset of UTF-16 offset `unit`, rounded as unitsToCodePoints rounds it. */
  toCodePoints(unit: number, round: 'down' | 'up' = 'down'): number {
    if (unit < 0 || unit > this.text.length || !Number.isInteger(unit)) {
      throw new RangeError(`offset ${unit} is outside the text (0..${this.text.length} UTF-16 units)`);
    }
    const u = alignToCodePoint(this.text, unit, round);
    const [i, n] = this.nearest(u, 1);
    return this.walk(n, i, (at) => at[1] - u)[0];
  }

  /**
   * Steps character by character from code point `n` at unit `i` until `past` is 0 (negative:
   * forward, positive: back); remembers and returns where it stopped as [code point, unit].
   */
  private walk(n: number, i: number, past: (at: [number, number]) => number): [number, number] {
    const t = this.text;
    const at: [number, number] = [n, i];
    while (past(at) < 0) {
      at[1] += isHigh(t.charCodeAt(at[1])) && at[1] + 1 < t.length && isLow(t.charCodeAt(at[1] + 1)) ? 2 : 1;
      at[0]++;
    }
    while (past(at) > 0) {
      at[1] -= at[1] >= 2 && isLow(t.charCodeAt(at[1] - 1)) && isHigh(t.charCodeAt(at[1] - 2)) ? 2 : 1;
      at[0]--;
    }
    [this.cp, this.unit] = at;
    return at;
  }

  /**
   * Of the start, the end and the last point, the one nearest `target`, which is a code-point
   * offset (`which` 0) or a UTF-16 offset (1); returned as [that offset, the other offset].
   */
  private nearest(target: number, which: 0 | 1): [number, number] {
    let best: [number, number] = [0, 0];
    for (const p of [[this.characters, this.text.length], [this.cp, this.unit]] as [number, number][]) {
      if (Math.abs(p[which] - target) < Math.abs(best[which] - target)) best = p;
    }
    return which === 0 ? best : [best[1], best[0]];
  }
}
