/**
 * Attribute readers and number formats matching libinfinity's inf-xml-util.c, raising the same
 * INF_REQUEST_ERROR codes and messages that infinoted puts into <request-failed>.
 */
import type { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';

const REQ = ErrorCodes.INF_REQUEST_ERROR;

/** inf_xml_util_get_attribute_required. */
export function requireAttr(el: Element, name: string): string {
  const v = el.attrs[name];
  if (typeof v !== 'string') {
    throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, `Request '${el.name}' does not contain required attribute '${name}'`);
  }
  return v;
}

export function optionalAttr(el: Element, name: string): string | undefined {
  const v = el.attrs[name];
  return typeof v === 'string' ? v : undefined;
}

function invalidNumber(name: string): InfError {
  return new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' does not contain a valid number`);
}

function overflow(name: string, value: string): InfError {
  return new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes overflow (${value})`);
}

function underflow(name: string, value: string): InfError {
  return new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes underflow (${value})`);
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * The number at the start of `value` as C's strtoul/strtol with base 0 read it (glibc, 64-bit
 * long): leading white space, a sign, `0x` for hexadecimal and a leading `0` for octal; `end`
 * is where reading stopped (with `base` 10: decimal digits only). Undefined when no digits are
 * read. The magnitude is exact (no limit), the caller decides about overflow.
 */
function scanCInteger(value: string, base: 0 | 10 = 0): { negative: boolean; magnitude: bigint; end: number } | undefined {
  const m = (base === 10 ? /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/ : /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/).exec(value);
  if (!m) return undefined;
  const digits = m[2]!;
  if (base === 10) return { negative: m[1] === '-', magnitude: BigInt(digits), end: m[0].length };
  const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 ? BigInt(digits[0] === '0' ? `0o${digits.slice(1)}` : digits) : BigInt(digits);
  return { negative: m[1] === '-', magnitude, end: m[0].length };
}

/** The whole value read as one number (inf_xml_util's check that nothing follows), or undefined. */
function cInteger(value: string): { negative: boolean; magnitude: bigint } | undefined {
  const c = scanCInteger(value);
  return c && c.end === value.length ? c : undefined;
}

/** strtoul's result: saturated at ULONG_MAX (ERANGE), a '-' wrapping modulo 2^64. */
function asUlong(c: { negative: boolean; magnitude: bigint }): bigint {
  if (c.magnitude > ULONG_MAX) return ULONG_MAX;
  return c.negative && c.magnitude !== 0n ? (1n << 64n) - c.magnitude : c.magnitude;
}

/**
 * strtoul(value, NULL, 0) where libinfinity ignores where it stopped: the number at the start
 * of `value` ("3x" is 3), 0 when there is none; past 2^64-1 it saturates, a '-' wraps.
 */
export function strtoulPrefix(value: string): number {
  const c = scanCInteger(value);
  return c ? Number(asUlong(c)) : 0;
}

/**
 * strtoul(value, NULL, 10) kept in a guint, as libinfinity reads a synchronised user's id: the
 * decimal number at the start ("12x" is 12, "0x10" is 0, "abc" is 0), a '-' wrapping and values
 * past 2^64-1 saturating as strtoul does, then the low 32 bits ("-1" and "4294967295" are
 * 4294967295, "4294967296" is 0).
 */
export function strtoulDecimalUint32(value: string): number {
  const c = scanCInteger(value, 10);
  return c ? Number(asUlong(c) & 0xffffffffn) : 0;
}

/** A plain decimal without a leading zero: what every libinfinity peer writes. */
const PLAIN = /^(?:0|[1-9]\d{0,8})$/;

/**
 * An unsigned 32-bit number as inf_xml_util_string_to_uint reads it (strtoul, base 0): " 7",
 * "+7", "07" and "0x7" are 7, "-0" is 0, "-1" overflows (strtoul wraps it to ULONG_MAX).
 */
export function parseUint(name: string, value: string): number {
  if (PLAIN.test(value)) return Number(value);
  const c = cInteger(value);
  if (!c) throw invalidNumber(name);
  if (c.magnitude > ULONG_MAX) throw overflow(name, value);
  const n = asUlong(c);
  if (n > 0xffffffffn) throw overflow(name, value);
  return Number(n);
}

/** A signed 32-bit number as inf_xml_util_string_to_int reads it (strtol, base 0). */
export function parseInt32(name: string, value: string): number {
  if (PLAIN.test(value)) return Number(value);
  const c = cInteger(value);
  if (!c) throw invalidNumber(name);
  const n = c.negative ? -c.magnitude : c.magnitude;
  if (n > (1n << 63n) - 1n) throw overflow(name, value);
  if (n < -(1n << 63n)) throw underflow(name, value);
  if (n > 0x7fffffffn) throw overflow(name, value);
  if (n < -0x80000000n) throw underflow(name, value);
  return Number(n);
}

/** A double as inf_xml_util_string_to_double reads it: g_ascii_strtod, the whole value, ERANGE reported. */
export function parseDouble(name: string, value: string): number {
  const r = asciiStrtod(value);
  if (value === '' || r === undefined || r.end !== value.length) throw invalidNumber(name);
  if (r.range === 'overflow') throw overflow(name, value);
  if (r.range === 'underflow') throw underflow(name, value);
  return r.value;
}

/**
 * g_ascii_strtod (C-locale strtod, glibc): leading white space, a sign, then a decimal number
 * with an optional exponent, a hexadecimal one ("0x1.8p1"), "inf", "infinity" or "nan" (with an
 * optional "(chars)"), case-insensitive. `end` is where reading stopped; `range` is set where
 * strtod sets ERANGE with HUGE_VAL (overflow) or 0 (underflow). Undefined when nothing is read.
 */
function asciiStrtod(value: string): { value: number; end: number; range?: 'overflow' | 'underflow' } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?|(infinity|inf)|(nan(?:\([0-9A-Za-z_]*\))?)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))/i.exec(value);
  if (!m) return undefined;
  const [whole, signText, hexInt, hexFrac, hexExp, inf, nan, decimal] = m;
  const sign = signText === '-' ? -1 : 1;
  const end = whole.length;
  if (inf !== undefined) return { value: sign * Infinity, end };
  if (nan !== undefined) return { value: NaN, end };
  let magnitude: number;
  let nonzero: boolean;
  if (decimal === undefined) {
    const mantissa = BigInt(`0x${hexInt! + hexFrac! || '0'}`);
    nonzero = mantissa !== 0n;
    magnitude = Number(mantissa) * 2 ** (Number(hexExp ?? 0) - 4 * hexFrac!.length);
  } else {
    magnitude = Number(decimal);
    nonzero = /[1-9]/.test(decimal.replace(/[eE].*$/, ''));
  }
  if (magnitude === Infinity) return { value: sign * Infinity, end, range: 'overflow' };
  if (magnitude === 0 && nonzero) return { value: 0, end, range: 'underflow' };
  return { value: sign * magnitude, end };
}

export function uintAttr(el: Element, name: string): number {
  return parseUint(name, requireAttr(el, name));
}

export function optionalUintAttr(el: Element, name: string): number | undefined {
  const v = optionalAttr(el, name);
  return v === undefined ? undefined : parseUint(name, v);
}

/**
 * C's "%.17g" as g_ascii_dtostr writes doubles (hue, timestamps): 0.25 -> "0.25",
 * 0.3 -> "0.29999999999999999" (protocol.md 5.2).
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expText] = x.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 17) {
    const e = Math.abs(exp);
    return `${strip(mant)}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return strip(x.toFixed(16 - exp));
}

/** A uint attribute value as libinfinity writes it. */
export const uintText = (n: number): string => String(n);
