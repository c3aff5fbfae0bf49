/**
 * Character classes and escaping exactly as libxml2's xmlNodeDump writes them for infinoted
 * (protocol.md 1.2, captures 12*): text and attribute values are escaped differently.
 */

/** XML 1.0 production [2] Char. Everything else travels as <uchar codepoint="N"/> in text. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Matches any UTF-16 sequence that is not an XML Char (incl. lone surrogates). */
export const NON_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Every UTF-16 unit that can be part of a non-XML Char: the C0 controls but TAB, LF and CR,
 * U+FFFE, U+FFFF and the surrogates. Without the u flag this scans a few times faster than
 * NON_XML_CHAR, and a one-byte string (Latin-1) cannot hold the surrogates or U+FFFE/U+FFFF.
 */
const MAYBE_NON_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Whether `s` holds a character that is not an XML Char (NON_XML_CHAR.test(s), faster). */
export function hasNonXmlChar(s: string): boolean {
  // A surrogate is only suspicious when it is not half of a pair: NON_XML_CHAR decides.
  return MAYBE_NON_XML.test(s) && NON_XML_CHAR.test(s);
}

const NON_ASCII = /[^\x00-\x7F]/;

/** Whether `s` is all ASCII (its UTF-8 length is its length). */
export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** Number of UTF-8 bytes `s` occupies (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length(s: string): number {
  if (isAscii(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function nonAscii(s: string): string {
  // libxml2 writes non-ASCII as hexadecimal references when no encoding is declared (storage files, §7.2).
  return s.replace(/[^\x00-\x7f]/gu, (ch) => `&#x${ch.codePointAt(0)!.toString(16).toUpperCase()};`);
}

/** Text content: only <, >, & and CR are escaped; quotes, LF and TAB stay literal (xmlEscapeContent). */
export function escapeText(s: string, ascii = false): string {
  const out = s.replace(/[<>&\r]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&#13;'));
  return ascii ? nonAscii(out) : out;
}

/**
 * Attribute values: &quot; &amp; &lt; &gt; and LF/CR/TAB as character references; ' stays
 * literal; and every non-ASCII character as a hexadecimal reference, which is what libxml2 does
 * in attributes of nodes without a document encoding (every message infinoted and libinfinity
 * clients write: a user "José" goes out as name="Jos&#xE9;", seen on loopback against infinoted
 * 0.7.2, 2026-12-03), while text content keeps raw UTF-8. `ascii` false keeps non-ASCII raw
 * (the stream header, which libinfinity writes with printf).
 */
export function escapeAttribute(s: string, ascii = true): string {
  const out = s.replace(/["&<>\n\r\t]/g, (c) => {
    switch (c) {
      case '"':
        return '&quot;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '\n':
        return '&#10;';
      case '\r':
        return '&#13;';
      default:
        return '&#9;';
    }
  });
  return ascii ? nonAscii(out) : out;
}
