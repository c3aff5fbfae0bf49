import { expect } from 'chai';
import { alignedDiff, minimalEdit, type EditStep } from '../src/text/minimal-edit.js';
import { codePointsToUnits } from '../src/text/units.js';

function apply(text: string, steps: EditStep[]): string {
  for (const s of steps) {
    const at = codePointsToUnits(text, s.pos);
    if (s.kind === 'insert') text = text.slice(0, at) + s.text + text.slice(at);
    else text = text.slice(0, at) + text.slice(codePointsToUnits(text, s.pos + s.len));
  }
  return text;
}

function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// Small deterministic PRNG so a failure can be replayed from the printed seed.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

describe('minimalEdit', () => {
  it('returns no steps for identical texts', () => {
    expect(minimalEdit('same', 'same')).to.deep.equal([]);
  });

  it('changes only the differing part, so unchanged text keeps its authors', () => {
    expect(minimalEdit('Hello World', 'Hello brave World')).to.deep.equal([
      { kind: 'insert', pos: 6, text: 'brave ' },
    ]);
    expect(minimalEdit('abcdef', 'abXdef')).to.deep.equal([
      { kind: 'delete', pos: 2, len: 1 },
      { kind: 'insert', pos: 2, text: 'X' },
    ]);
  });

  it('counts positions in code points after emoji', () => {
    expect(minimalEdit('😀😀x', '😀😀yx')).to.deep.equal([{ kind: 'insert', pos: 2, text: 'y' }]);
  });

  it('never splits a surrogate pair when two emoji share their high surrogate', () => {
    // U+1F600 and U+1F601 differ only in the low surrogate: diff-match-patch alone would
    // keep the high half as "equal" and replace half a character.
    const steps = minimalEdit('a😀b', 'a😁b');
    expect(steps).to.deep.equal([
      { kind: 'delete', pos: 1, len: 1 },
      { kind: 'insert', pos: 1, text: '😁' },
    ]);
  });

  it('turns random texts with emoji, combining marks and control characters into each other', () => {
    const alphabet = ['a', 'b', ' ', '\n', '😀', '😁', '🎉', 'e\u0301', '\f', '€', '\u{10000}'];
    const seed = Date.now() % 100000;
    const rand = rng(seed);
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const a = word(Math.floor(rand() * 20));
      const b = word(Math.floor(rand() * 20));
      const steps = minimalEdit(a, b);
      const label = `seed ${seed}, case ${i}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
      expect(apply(a, steps), label).to.equal(b);
      for (const s of steps) if (s.kind === 'insert') expect(isWellFormed(s.text), label).to.equal(true);
    }
  });

  it('keeps the unchanged emoji of a run and replaces only the one that differs', () => {
    expect(minimalEdit('😀😀😀', '😀😁😀')).to.deep.equal([
      { kind: 'delete', pos: 1, len: 1 },
      { kind: 'insert', pos: 1, text: '😁' },
    ]);
    expect(minimalEdit('x😀', 'x😀😀')).to.deep.equal([{ kind: 'insert', pos: 2, text: '😀' }]);
  });

  it('gives diffs for patches whose pieces are all whole characters and add up to both texts', () => {
    const alphabet = ['a', ' ', '😀', '😁', '🎉', 'e\u0301', '\u0007'];
    const seed = Date.now() % 100000;
    const rand = rng(seed);
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const a = word(Math.floor(rand() * 16));
      const b = word(Math.floor(rand() * 16));
      const diffs = alignedDiff(a, b);
      const label = `seed ${seed}, case ${i}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
      expect(diffs.filter(([op]) => op <= 0).map(([, t]) => t).join(''), label).to.equal(a);
      expect(diffs.filter(([op]) => op >= 0).map(([, t]) => t).join(''), label).to.equal(b);
      for (const [, t] of diffs) expect(isWellFormed(t), label).to.equal(true);
    }
  });
});
