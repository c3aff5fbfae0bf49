import { expect } from 'chai';
import {
  codePointLength,
  codePointsToUnits,
  unitsToCodePoints,
  unitRangeToCodePoints,
  codePointRangeToUnits,
} from '../src/text/units.js';

describe('units (UTF-16 <-> code points)', () => {
  const text = 'a😀b\u0301c\fé🎉';

  it('counts an emoji as one character and a combining mark as its own character', () => {
    expect(codePointLength(text)).to.equal(8);
    expect(codePointLength('')).to.equal(0);
    expect(codePointLength('😀😀')).to.equal(2);
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
});
