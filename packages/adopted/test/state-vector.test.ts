import { expect } from 'chai';
import { StateVector, StateVectorError } from '../src/index.js';

describe('StateVector', () => {
  it('formats components by ascending id and omits zeros', () => {
    expect(StateVector.from([[3, 2], [1, 4], [2, 0]]).toString()).to.equal('1:4;3:2');
    expect(StateVector.zero.toString()).to.equal('');
  });

  it('parses zero components that real records contain', () => {
    const v = StateVector.parse('2:273;4:0');
    expect(v.get(2)).to.equal(273);
    expect(v.get(4)).to.equal(0);
    expect(v.toString()).to.equal('2:273');
  });

  for (const bad of ['1', '1:', ':1', '1:2;1:3', '1:2;', '1:2x', 'a:1', '1:-1', '3:1;1:2;3:4', '2:1;1:1;5:1;1:3', '1:0;1:0']) {
    it(`rejects the malformed vector "${bad}"`, () => {
      expect(() => StateVector.parse(bad)).to.throw(StateVectorError);
    });
  }

  it('parses a thousand components in any order and finds the one given twice', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
    const text = ids.map((u) => `${u}:${u * 2}`).join(';');
    const v = StateVector.parse(text);
    expect(v.toString()).to.equal(text);
    expect(v.get(777)).to.equal(1554);
    const shuffled = [...ids].reverse().map((u) => `${u}:${u}`).join(';');
    expect(StateVector.parse(shuffled).toString()).to.equal(ids.map((u) => `${u}:${u}`).join(';'));
    expect(() => StateVector.parse(`${text};500:1`)).to.throw(StateVectorError, 'component 500 given twice');
    expect(() => StateVector.parse(`${shuffled};1000:3`)).to.throw(StateVectorError, 'component 1000 given twice');
  });

  it('orders states causally, component by component', () => {
    const a = StateVector.parse('1:1;2:2');
    const b = StateVector.parse('1:2;2:2');
    expect(a.causallyBefore(b)).to.equal(true);
    expect(b.causallyBefore(a)).to.equal(false);
    expect(a.causallyBeforeInc(b, 1)).to.equal(true);
    expect(a.causallyBeforeInc(b, 2)).to.equal(false);
    expect(a.vdiff(b)).to.equal(1);
  });

  it('adds, subtracts and takes maxima without mutating', () => {
    const a = StateVector.parse('1:4;2:1');
    const d = StateVector.parse('2:3');
    expect(a.plus(d).toString()).to.equal('1:4;2:4');
    expect(a.plus(d).minus(a).toString()).to.equal('2:3');
    expect(a.max(StateVector.parse('2:5;3:1')).toString()).to.equal('1:4;2:5;3:1');
    expect(a.add(1).toString()).to.equal('1:5;2:1');
    expect(a.toString()).to.equal('1:4;2:1');
    expect(() => d.minus(a)).to.throw(StateVectorError);
  });

  it('takes the minimum of many vectors at once as pairwise minima would, every pattern of small vectors', () => {
    // Vectors over users 1..3 with components 0..2: every base against every pair of others.
    const all: StateVector[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) all.push(StateVector.from([[1, a], [2, b], [3, c]]));
    all.push(StateVector.parse('4:7'), StateVector.parse('1:1;4:2'));
    for (const base of all) {
      expect(base.minAll([]).equals(base)).to.equal(true);
      for (const x of all) {
        for (const y of all) {
          const got = base.minAll([x, y]);
          const want = base.min(x).min(y);
          expect(got.toString(), `${base} ${x} ${y}`).to.equal(want.toString());
          expect(got.equals(want)).to.equal(true);
        }
      }
    }
    expect(StateVector.parse('1:4;2:1').minAll([StateVector.parse('1:9;2:3')]).toString()).to.equal('1:4;2:1');
  });

  it('reads text that is not canonical as inf_adopted_state_vector_from_string does', () => {
    // Each case as the real libinfinity 0.7.2 read it (through its gi bindings, 2026-12-03).
    const cases: [string, string][] = [
      [':', ''], ['1:', ''], [' 1:2', '1:2'], ['+1:2', '1:2'], ['1: 2', '1:2'], ['1:2;', '1:2'], ['0:1', '0:1'],
      ['1:-1', '1:4294967295'], ['2:3;1:1', '1:1;2:3'], ['1:0', ''], ['4294967296:1', '0:1'], ['1:4294967296', ''],
      ['1:x', "Expected ';' or end of string after component of ID '1'"], ['a:b', 'Expected ":" after ID'],
      ['1:2;;', 'Expected ":" after ID'], [';', 'Expected ":" after ID'], ['1:1;1:2', "ID '1' already occurred before"],
      ['1:2 ', "Expected ';' or end of string after component of ID '1'"], ['1:2;3', 'Expected ":" after ID'],
    ];
    for (const [text, want] of cases) {
      let got: string;
      try {
        got = StateVector.parseLikeLibinfinity(text).toString();
      } catch (err) {
        expect(err, text).to.be.instanceOf(StateVectorError);
        got = (err as Error).message;
      }
      expect(got, JSON.stringify(text)).to.equal(want);
    }
  });
});
