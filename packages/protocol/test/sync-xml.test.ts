import { expect } from 'chai';
import { StateVector } from '@tandem/adopted';
import { Element, SerializedElement, encodeGroup, encodeOperation, encodeSyncRequest, encodeSyncSegment, operationXml, serialize, syncRequestXml, syncSegmentXml, type WireOperation } from '../src/index.js';

/** mulberry32 */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

// Everything text can hold: markup characters, quotes, CR/LF/TAB, controls (uchar), emoji
// (surrogate pairs), combining marks, a lone surrogate, the last BMP characters.
const PIECES = ['a', '<', '>', '&', '"', "'", '\r', '\n', '\t', '\u0000', '\u0007', '\u001f', '😀', 'e\u0301', '\ud800', '\uffff', '\ufffe', 'é', ' ', ']]>'];

describe('synchronisation messages written as text', () => {
  const seed = 20261202;
  const r = rng(seed);
  const text = (): string => Array.from({ length: r(6) }, () => PIECES[r(PIECES.length)]).join('');
  const operation = (): WireOperation => {
    switch (r(7)) {
      case 0: return { kind: 'insert', pos: r(1000), text: text() };
      case 1: return { kind: 'delete', pos: r(1000), len: 1 + r(9) };
      case 2: return { kind: 'delete', pos: r(1000), segments: Array.from({ length: r(3) }, () => ({ author: r(5), text: text() })) };
      case 3: return { kind: 'undo' };
      case 4: return { kind: 'redo' };
      case 5: return { kind: 'no-op' };
      default: return { kind: 'move', caret: r(50), selection: r(20) - 10 };
    }
  };

  it(`are byte for byte what serialize() makes of the element trees (2000 random messages, seed ${seed})`, () => {
    for (let i = 0; i < 2000; i++) {
      const op = operation();
      expect(operationXml(op), JSON.stringify(op)).to.equal(serialize(encodeOperation(op)));
      const time = StateVector.from([[1, r(9)], [2 + r(3), r(9)]]);
      const req = { user: 1 + r(4), time, operation: op };
      expect(syncRequestXml(req), JSON.stringify(op)).to.equal(serialize(encodeSyncRequest(req)));
      const seg = { author: r(4), text: text() };
      expect(syncSegmentXml(seg), JSON.stringify(seg)).to.equal(serialize(encodeSyncSegment(seg)));
    }
  });

  it('travel inside a group as a pre-serialised element', () => {
    const seg = { author: 3, text: 'x\u0007<' };
    const el = new SerializedElement(syncSegmentXml(seg));
    expect(serialize(encodeGroup('InfSession_1', el, 'publisher'))).to.equal(serialize(encodeGroup('InfSession_1', encodeSyncSegment(seg), 'publisher')));
    expect(() => serialize(new Element('x').cnode(el).up() as Element, { ascii: true })).to.throw(/ascii/);
  });
});
