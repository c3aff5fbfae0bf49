import { expect } from 'chai';
import { InfError, parseInt32, parseUint } from '../src/index.js';

/** The message of the INF_REQUEST_ERROR 5 a value gets, or its number. */
function read(parse: (name: string, value: string) => number, value: string): number | string {
  try {
    return parse('pos', value);
  } catch (err) {
    expect(err).to.be.instanceOf(InfError);
    expect((err as InfError).domain).to.equal('INF_REQUEST_ERROR');
    expect((err as InfError).code).to.equal(5);
    return (err as InfError).message;
  }
}

describe('attribute numbers as libinfinity reads them (strtoul/strtol, base 0)', () => {
  it('reads unsigned values with white space, signs, octal and hexadecimal as infinoted does', () => {
    const cases: [string, number | string][] = [
      ['0', 0], ['7', 7], ['4294967295', 4294967295],
      [' 7', 7], ['\t\n7', 7], ['+7', 7], ['-0', 0], ['07', 7], ['010', 8], ['0x1f', 31], ['0X1F', 31], ['00', 0],
      ['-1', "Attribute 'pos' causes overflow (-1)"],
      ['4294967296', "Attribute 'pos' causes overflow (4294967296)"],
      ['99999999999999999999', "Attribute 'pos' causes overflow (99999999999999999999)"],
      ['0x100000000', "Attribute 'pos' causes overflow (0x100000000)"],
      ['', "Attribute 'pos' does not contain a valid number"],
      [' ', "Attribute 'pos' does not contain a valid number"],
      ['7 ', "Attribute 'pos' does not contain a valid number"],
      ['1.5', "Attribute 'pos' does not contain a valid number"],
      ['08', "Attribute 'pos' does not contain a valid number"],
      ['0x', "Attribute 'pos' does not contain a valid number"],
      ['0xg', "Attribute 'pos' does not contain a valid number"],
      ['+-1', "Attribute 'pos' does not contain a valid number"],
      ['1e3', "Attribute 'pos' does not contain a valid number"],
      ['\u{1F600}', "Attribute 'pos' does not contain a valid number"],
    ];
    for (const [value, want] of cases) expect(read(parseUint, value), JSON.stringify(value)).to.equal(want);
  });

  it('reads signed values within int, with overflow and underflow told apart', () => {
    const cases: [string, number | string][] = [
      ['-1', -1], ['-2147483648', -2147483648], ['2147483647', 2147483647], [' -010', -8], ['-0x10', -16], ['+3', 3],
      ['2147483648', "Attribute 'pos' causes overflow (2147483648)"],
      ['-2147483649', "Attribute 'pos' causes underflow (-2147483649)"],
      ['9223372036854775808', "Attribute 'pos' causes overflow (9223372036854775808)"],
      ['-9223372036854775809', "Attribute 'pos' causes underflow (-9223372036854775809)"],
      ['--1', "Attribute 'pos' does not contain a valid number"],
    ];
    for (const [value, want] of cases) expect(read(parseInt32, value), JSON.stringify(value)).to.equal(want);
  });
});
