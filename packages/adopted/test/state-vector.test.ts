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

  for (const bad of ['1', '1:', ':1', '1:2;1:3', '1:2;', '1:2x', 'a:1', '1:-1']) {
    it(`rejects the malformed vector "${bad}"`, () => {
      expect(() => StateVector.parse(bad)).to.throw(StateVectorError);
    });
  }

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
});
