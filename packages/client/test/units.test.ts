import { expect } from 'chai';
import {
  codePointLength,
  codePointsToUnits,
  unitsToCodePoints,
  unitRangeToCodePoints,
  codePointRangeToUnits,
  alignToCodePoint,
  splitsSurrogatePair,
  OffsetIndex,
} from '../src/text/units.js';

describe('units (UTF-16 <-> code points)', () => {
  const text = 'a😀b\u0301c\fé🎉';

  it('counts an emoji as one character and a combining mark as its own character', () => {
    expect(codePointLength(text)).to.equal(8);
    expect(codePointLength('')).to.equal(0);
    expect(codePointLength('😀😀')).to.equal(2);
    expect(codePointLength('no surrogate, é € \u0301')).to.equal(19);
    // Lone surrogates count once each, as Array.from counts them.
    for (const s of ['\ud83d', 'a\ude00b', '\ude00\ud83d', '\ud83d\ud83d\ude00', 'x\udbff']) {
      expect(codePointLength(s), JSON.stringify(s)).to.equal(Array.from(s).length);
    }
  });

  it('maps every UTF-16 offset that is a character boundary to its code-point offset and back', () => {
    const boundaries = [0, 1, 3, 4, 5, 6, 7, 8, 10];
    boundaries.forEach((unit, cp) => {
      expect(unitsToCodePoints(text, unit)).to.equal(cp);
      expect(codePointsToUnits(text, cp)).to.equal(unit);
    });
  });

  it('rounds an offset inside a surrogate pair down to the start of the pair', () => {
    expect(unitsToCodePoints(text, 2)).to.equal(1);
  });

  it('converts ranges that contain emoji', () => {
    expect(unitRangeToCodePoints(text, 1, 3)).to.deep.equal({ pos: 1, len: 2 });
    expect(codePointRangeToUnits(text, 6, 2)).to.deep.equal({ start: 7, length: 3 });
  });

  it('rejects positions outside the text', () => {
    expect(() => codePointsToUnits('ab', 3)).to.throw(RangeError, /beyond the end/);
    expect(() => unitsToCodePoints('ab', -1)).to.throw(RangeError);
    expect(() => codePointsToUnits('ab', 1.5)).to.throw(RangeError);
  });

  it('rounds an offset inside a surrogate pair up to the end of the pair when asked', () => {
    expect(unitsToCodePoints(text, 2, 'up')).to.equal(2);
    expect(unitsToCodePoints(text, 3, 'up')).to.equal(2);
    expect(unitsToCodePoints(text, 9, 'up')).to.equal(8);
  });

  it('widens a range that ends inside a surrogate pair to the whole pair', () => {
    expect(unitRangeToCodePoints('a😀b', 1, 1)).to.deep.equal({ pos: 1, len: 1 });
    expect(unitRangeToCodePoints('a😀b', 0, 2)).to.deep.equal({ pos: 0, len: 2 });
    expect(unitRangeToCodePoints('😀😀', 1, 2)).to.deep.equal({ pos: 0, len: 2 });
  });

  it('widens a range that starts inside a surrogate pair to the whole pair', () => {
    expect(unitRangeToCodePoints('a😀b', 2, 1)).to.deep.equal({ pos: 1, len: 1 });
    expect(unitRangeToCodePoints('a😀b', 2, 2)).to.deep.equal({ pos: 1, len: 2 });
    expect(unitRangeToCodePoints('👍🏽', 1, 2)).to.deep.equal({ pos: 0, len: 2 });
  });

  it('keeps combining marks and control characters as characters of their own (no widening)', () => {
    expect(unitRangeToCodePoints('e\u0301x', 1, 1)).to.deep.equal({ pos: 1, len: 1 });
    expect(unitRangeToCodePoints('e\u0301x', 0, 1)).to.deep.equal({ pos: 0, len: 1 });
    expect(unitRangeToCodePoints('a\u0007\f\r\nb', 1, 4)).to.deep.equal({ pos: 1, len: 4 });
    expect(unitRangeToCodePoints('😀\u0007', 1, 2)).to.deep.equal({ pos: 0, len: 2 });
  });

  it('leaves an empty range empty, even inside a surrogate pair', () => {
    expect(unitRangeToCodePoints('a😀b', 2, 0)).to.deep.equal({ pos: 1, len: 0 });
    expect(unitRangeToCodePoints('a😀b', 4, 0)).to.deep.equal({ pos: 3, len: 0 });
  });

  it('knows which offsets split a surrogate pair and moves them to a boundary', () => {
    expect([0, 1, 2, 3, 4].map((u) => splitsSurrogatePair('a😀b', u))).to.deep.equal([false, false, true, false, false]);
    expect(alignToCodePoint('a😀b', 2, 'down')).to.equal(1);
    expect(alignToCodePoint('a😀b', 2, 'up')).to.equal(3);
    expect(alignToCodePoint('a😀b', 3, 'down')).to.equal(3);
    // A lone surrogate is a character of its own: nothing splits it.
    expect(splitsSurrogatePair('a\ud83db', 2)).to.equal(false);
    expect(codePointLength('a\ud83db\ude00')).to.equal(4);
  });
});

describe('OffsetIndex', () => {
  // Texts with pairs, lone high and low surrogates next to each other and to pairs, BMP text.
  const PIECES = ['a', 'é', '😀', '👍🏽', '\ud800', '\udc00', '\ud83d', 'e\u0301', '\n', '🇩🇪'];
  const seed = 20261202;
  let s = seed;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };

  it(`converts like the scanning functions from any starting point, both ways (2000 random texts, seed ${seed})`, () => {
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: rand(30) }, () => PIECES[rand(PIECES.length)]).join('');
      const chars = codePointLength(text);
      const hintCp = rand(chars + 1);
      const index = new OffsetIndex(text, chars, rand(2) ? { cp: hintCp, unit: codePointsToUnits(text, hintCp) } : undefined);
      for (let q = 0; q < 8; q++) {
        const cp = rand(chars + 1);
        expect(index.toUnits(cp), `${JSON.stringify(text)} cp ${cp}`).to.equal(codePointsToUnits(text, cp));
        const unit = rand(text.length + 1);
        const round = rand(2) ? 'up' : 'down';
        expect(index.toCodePoints(unit, round), `${JSON.stringify(text)} unit ${unit} ${round}`).to.equal(unitsToCodePoints(text, unit, round));
      }
      expect(() => index.toUnits(chars + 1)).to.throw(RangeError, /beyond the end/);
      expect(() => index.toCodePoints(text.length + 1)).to.throw(RangeError, /outside the text/);
    }
  });
});
