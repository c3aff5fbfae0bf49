import { expect } from 'chai';
import { Element } from '@xmpp/xml';
import { InfError, decodeSyncUser, parseDouble, parseInt32, parseUint } from '../src/index.js';

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

describe('doubles as libinfinity reads them (g_ascii_strtod)', () => {
  it('takes white space, hexadecimal, inf and nan, and refuses overflow, underflow and trailing text', () => {
    const cases: [string, number | string][] = [
      ['0.5', 0.5], [' 0.5', 0.5], ['+.5e-3', 0.0005], ['1.', 1], ['0x1.8p1', 3], ['0x1p-2', 0.25], ['1e-310', 1e-310],
      ['inf', Infinity], ['-Infinity', -Infinity], ['INF', Infinity],
      ['1e400', "Attribute 'pos' causes overflow (1e400)"],
      ['1e-400', "Attribute 'pos' causes underflow (1e-400)"],
      ['', "Attribute 'pos' does not contain a valid number"],
      [' ', "Attribute 'pos' does not contain a valid number"],
      ['0.5 ', "Attribute 'pos' does not contain a valid number"],
      ['5e', "Attribute 'pos' does not contain a valid number"],
      ['0x', "Attribute 'pos' does not contain a valid number"],
      ['x', "Attribute 'pos' does not contain a valid number"],
    ];
    for (const [value, want] of cases) expect(read(parseDouble, value), JSON.stringify(value)).to.equal(want);
    expect(read(parseDouble, 'nan')).to.be.NaN;
    expect(read(parseDouble, 'nan(')).to.equal("Attribute 'pos' does not contain a valid number");
    expect(read(parseDouble, 'NaN(0x1)')).to.be.NaN;
    expect(read(parseDouble, 'nan(abc_1)')).to.be.NaN;
  });
});

describe('sync-user as a libinfinity receiver reads it', () => {
  const none = { id: () => false, name: () => false };
  const user = (attrs: Record<string, string>, taken = none) => decodeSyncUser(new Element('sync-user', attrs), taken);
  const base = { name: 'a', time: '', caret: '0' };

  it('reads the id with strtoul base 10 into 32 bits', () => {
    const ids: [string, number][] = [['7', 7], [' 07', 7], ['+7', 7], ['12x', 12], ['0x10', 0], ['abc', 0], ['-1', 4294967295],
      ['4294967295', 4294967295], ['4294967296', 0], ['4294967297', 1], ['99999999999999999999', 4294967295]];
    for (const [id, want] of ids) expect(user({ id, ...base }).id, id).to.equal(want);
  });

  it('takes unreadable values as absent, an unknown status as unavailable, a hue out of range as 0', () => {
    expect(user({ id: '1', ...base, status: 'bogus', selection: 'x', hue: 'x' })).to.deep.equal({ id: 1, name: 'a', status: 'unavailable', time: user({ id: '1', ...base }).time, caret: 0, selection: 0 });
    expect(user({ id: '1', ...base }).status).to.equal('unavailable');
    expect(user({ id: '1', ...base, status: 'inactive' }).status).to.equal('inactive');
    for (const [hue, want] of [['2', 0], ['-0.5', 0], ['nan', 0], ['inf', 0], [' 0.25', 0.25], ['1', 1]] as const) expect(user({ id: '1', ...base, hue }).hue, hue).to.equal(want);
  });

  it('runs validate_user_props\' checks in their order', () => {
    const fail = (attrs: Record<string, string>, taken = none): string => {
      try {
        user(attrs, taken);
      } catch (err) {
        return `${(err as InfError).domain} ${(err as InfError).code}: ${(err as InfError).message}`;
      }
      return 'accepted';
    };
    const all = { id: () => true, name: () => true };
    expect(fail({ name: 'a' }, all)).to.equal("INF_SESSION_SYNC_ERROR 2: 'id' attribute in user message is missing");
    expect(fail({ id: '1' }, all)).to.equal('INF_SESSION_SYNC_ERROR 3: User ID is already in use');
    expect(fail({ id: '1' })).to.equal("INF_SESSION_SYNC_ERROR 4: 'name' attribute in user message is missing");
    expect(fail({ id: '1', name: 'a' }, { id: () => false, name: () => true })).to.equal('INF_SESSION_SYNC_ERROR 5: User Name is already in use');
    expect(fail({ id: '1', name: 'a', time: 'x', caret: 'x' })).to.equal('INF_ADOPTED_SESSION_ERROR 3: "time" attribute in user message is missing');
    expect(fail({ id: '1', name: 'a', time: '1:2', caret: '-1' })).to.equal('INF_REQUEST_ERROR 3: "caret" attribute in user message is missing');
    expect(fail({ id: '1', name: 'a', time: '1:2', caret: ' 3' })).to.equal('accepted');
  });
});

