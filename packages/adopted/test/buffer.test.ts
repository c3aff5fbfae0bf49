import { expect } from 'chai';
import { Chunk, TextBuffer, cpLength } from '../src/index.js';

describe('TextBuffer', () => {
  it('counts positions in code points: emoji 1, combining mark separately, flags 2, CRLF 2', () => {
    expect(cpLength('😀')).to.equal(1);
    expect(cpLength('e\u0301')).to.equal(2);
    expect(cpLength('🇩🇪')).to.equal(2);
    expect(cpLength('👨‍👩‍👧')).to.equal(5);
    expect(cpLength('\r\n')).to.equal(2);
  });

  it('inserts and erases around astral characters and returns the removed text with authors', () => {
    const b = new TextBuffer([{ author: 1, text: 'a😀b' }]);
    b.insert(2, Chunk.fromText('\u0001X', 2));
    expect(b.text).to.equal('a😀\u0001Xb');
    expect(b.length).to.equal(5);
    const removed = b.erase(1, 3);
    expect(removed.segments()).to.deep.equal([{ author: 1, text: '😀' }, { author: 2, text: '\u0001X' }]);
    expect(b.segments()).to.deep.equal([{ author: 1, text: 'ab' }]);
  });

  it('rejects positions beyond the end', () => {
    const b = new TextBuffer([{ author: 0, text: 'abc' }]);
    expect(() => b.insert(4, Chunk.fromText('x', 1))).to.throw(RangeError);
    expect(() => b.erase(2, 2)).to.throw(RangeError);
  });

  it('matches a plain string model over thousands of random edits on a large document (seed 7)', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = ['a', 'b', '😀', 'e\u0301', '\u0007', '👨‍👩‍👧', '\n', 'ß'];
    const start = Array.from({ length: 20000 }, (_, i) => alphabet[i % alphabet.length]!).join('');
    const model: { a: number; c: string }[] = [...start].map((c) => ({ a: 0, c }));
    const b = new TextBuffer([{ author: 0, text: start }]);
    for (let i = 0; i < 3000; i++) {
      if (rnd(2) === 0 || model.length < 10) {
        const pos = rnd(model.length + 1);
        const text = alphabet[rnd(alphabet.length)]! + alphabet[rnd(alphabet.length)]!;
        const author = 1 + rnd(3);
        b.insert(pos, Chunk.fromText(text, author));
        model.splice(pos, 0, ...[...text].map((c) => ({ a: author, c })));
      } else {
        const pos = rnd(model.length);
        const len = Math.min(rnd(40), model.length - pos);
        const got = b.erase(pos, len);
        const want = model.splice(pos, len);
        expect(got.text).to.equal(want.map((x) => x.c).join(''));
      }
    }
    expect(b.text).to.equal(model.map((x) => x.c).join(''));
    expect(b.length).to.equal(model.length);
    expect(b.slice(100, 50).text).to.equal(model.slice(100, 150).map((x) => x.c).join(''));
  });
});

describe('cpLength', () => {
  it('counts what Array.from counts (pairs once, lone surrogates once) for every string of up to 4 units from a mixed alphabet', () => {
    const units = ['A', '\u0301', 'é', '\ud83d', '\ude00', '\udbff', '\udc00', '\uffff', '\u0001'];
    let strings = [''];
    for (let len = 1; len <= 4; len++) {
      strings = strings.flatMap((s) => (s.length === len - 1 ? units.map((u) => s + u) : []));
      for (const s of strings) expect(cpLength(s), JSON.stringify(s)).to.equal(Array.from(s).length);
    }
    expect(cpLength('plain ASCII, no surrogate at all')).to.equal(32);
  });
});

describe('TextBuffer built from one segment', () => {
  it('gives that text back, and the edited text after an insert or an erase', () => {
    const text = 'one author 😀 e\u0301 wrote all of this\n'.repeat(100);
    const b = new TextBuffer([{ author: 3, text }, { author: 4, text: '' }]);
    expect(b.text).to.equal(text);
    expect(b.segments()).to.deep.equal([{ author: 3, text }]);
    b.insert(11, Chunk.fromText('X', 5));
    const cps = Array.from(text);
    cps.splice(11, 0, 'X');
    expect(b.text).to.equal(cps.join(''));
    const c = new TextBuffer([{ author: 3, text }]);
    c.erase(0, 4);
    expect(c.text).to.equal(Array.from(text).slice(4).join(''));
    const d = new TextBuffer([{ author: 3, text }]);
    d.erase(5, 0);
    expect(d.text).to.equal(text);
  });
});
