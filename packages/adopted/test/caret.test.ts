import { expect } from 'chai';
import { transformCaretDelete, transformCaretInsert } from '../src/index.js';

describe('caret and selection transformation (libinfinity 0.7.2 inf_text_move_operation_transform_*)', () => {
  // Answers of the real library (InfText.MoveOperation.transform_delete via python3-gi):
  // [delete position, length, caret, selection] -> [caret, selection].
  // test/interop/caret-transform.test.ts compares every small case live.
  const deletions: [[number, number, number, number], [number, number]][] = [
    // The deletion takes the caret end of a backward selection: libinfinity turns it forward.
    [[130, 6, 132, -47], [130, 45]],
    [[2, 4, 3, -2], [2, 1]],
    // The deletion takes the far end of a forward selection: libinfinity turns it backward.
    [[3, 5, 1, 4], [1, -2]],
    [[4, 2, 1, 4], [1, -3]],
    // The other cases keep both ends where the text around them went.
    [[0, 2, 5, -1], [3, -1]],
    [[3, 2, 5, -3], [3, -1]],
    [[2, 2, 1, 4], [1, 2]],
    [[6, 1, 3, 2], [3, 2]],
    [[1, 1, 1, 0], [1, 0]],
    [[0, 9, 4, -2], [0, 0]],
  ];
  for (const [[pos, len, caret, selection], expected] of deletions) {
    it(`deleting ${len} at ${pos} moves caret ${caret}, selection ${selection} to ${expected.join(', ')}`, () => {
      expect(transformCaretDelete(pos, len, caret, selection)).to.deep.equal(expected);
    });
  }

  it('works modulo 2^32 as libinfinity does: a selection reaching before the start wraps around and back', () => {
    // Recorded from libinfinity: a forward selection turned backward past the start of the text...
    expect(transformCaretDelete(9, 2, 1, 9)).to.deep.equal([1, -8]);
    // ...has its far end near 2^32, so insertions grow it as a forward selection, and it wraps into range.
    expect(transformCaretInsert(8, 6, 1, -8, true)).to.deep.equal([1, -2]);
    expect(transformCaretInsert(7, 4, 1, -2, true)).to.deep.equal([1, 2]);
    expect(transformCaretDelete(0, 1, 1, -8)).to.deep.equal([0, -8]);
  });

  it('keeps a collapsed caret at an insertion with left gravity (remote) and moves it behind without (own)', () => {
    expect(transformCaretInsert(3, 2, 3, 0, true)).to.deep.equal([3, 0]);
    expect(transformCaretInsert(3, 2, 3, 0, false)).to.deep.equal([5, 0]);
    // A selection never grows by text inserted at its bounds.
    expect(transformCaretInsert(5, 2, 3, 2, false)).to.deep.equal([3, 2]);
    expect(transformCaretInsert(3, 2, 5, -2, true)).to.deep.equal([7, -2]);
  });
});
