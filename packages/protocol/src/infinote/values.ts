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

/**
 * An unsigned 32-bit decimal (inf_xml_util_string_to_uint). Stricter than its strtoul(base 0):
 * hexadecimal, octal, signs and white space are refused; no libinfinity peer writes them.
 */
export function parseUint(name: string, value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw invalidNumber(name);
  const n = Number(value);
  if (n > 0xffffffff) {
    throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes overflow (${value})`);
  }
  return n;
}

/** A signed 32-bit decimal (inf_xml_util_string_to_int). */
export function parseInt32(name: string, value: string): number {
  if (!/^-?\d{1,10}$/.test(value)) throw invalidNumber(name);
  const n = Number(value);
  if (n > 0x7fffffff) throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes overflow (${value})`);
  if (n < -0x80000000) throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes underflow (${value})`);
  return n;
}

/** A double as g_ascii_strtod reads it (decimal forms only; no hex floats, inf or nan). */
export function parseDouble(name: string, value: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) throw invalidNumber(name);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InfError('INF_REQUEST_ERROR', REQ.INVALID_NUMBER, `Attribute '${name}' causes overflow (${value})`);
  return n;
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
