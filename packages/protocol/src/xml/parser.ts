/**
 * A small streaming XML 1.0 parser producing @xmpp/xml (ltx) Elements.
 *
 * Why not ltx's own SAX parser: it buffers without bound, throws out of write() on an unknown
 * entity, does not normalise CR, passes raw control characters and '<' in attribute values, and
 * silently skips <!DOCTYPE ...> as if it were a comment. libinfinity reads the stream with a
 * libxml2 SAX1 push parser (inf-xmpp-connection.c) that rejects all of that as not well-formed,
 * so this parser does the same, with configurable limits on element size and nesting depth.
 *
 * protocol.md 10.3 (decided): infinoted's SAX1 parser hands `&amp;` inside an attribute value
 * over as the literal `&#38;`. This parser decodes it to "&" like any XML parser; clients rely
 * on nothing here. Names already stored by infinoted as "a&#38;b" are read back from disk as that
 * literal, so they are served as `name="a&amp;#38;b"`, the same bytes infinoted sends.
 * Other 0.7.2 quirks of section 10 are the server's business, not the codec's.
 *
 * Pull model: push() input, then call next() until it returns undefined. restart() drops the
 * element stack but keeps unread input, which is exactly an XMPP stream restart after SASL
 * success (the peer's new header may already be in the same chunk as the last stanza).
 */
import { Element } from '@xmpp/xml';
import { hasNonXmlChar, isAscii, isXmlChar, utf8Length } from './chars.js';
import { Utf8StreamDecoder } from './utf8.js';

export interface XmlLimits {
  /** Largest top-level stanza (stream mode) or document (document mode), in UTF-8 bytes. */
  maxElementBytes: number;
  /** Deepest element nesting, the stream/document root counting as 1. */
  maxDepth: number;
}

/** 8 MiB: above any realistic paste into a Gobby document, below what a hostile peer gets to buffer. */
export const defaultStreamLimits: Readonly<XmlLimits> = Object.freeze({ maxElementBytes: 8 * 1024 * 1024, maxDepth: 64 });

/** The RFC 6120 stream error condition a parse failure maps to. */
export type XmlErrorCondition = 'bad-format' | 'policy-violation' | 'restricted-xml' | 'unsupported-encoding';

export class XmlError extends Error {
  override readonly name = 'XmlError';
  constructor(
    readonly condition: XmlErrorCondition,
    message: string,
  ) {
    super(message);
  }
}

export type XmlEvent =
  /** The stream header (start tag of the root element); its children are still to come. */
  | { type: 'open'; element: Element }
  /** One complete child of the root: a stanza. */
  | { type: 'element'; element: Element }
  /** The root's end tag (`</stream:stream>`). */
  | { type: 'close' }
  /** The input is not acceptable; the parser accepts nothing more. */
  | { type: 'error'; error: XmlError };

const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = NAME_START + '\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
const WHITE = /[ \t\r\n]/;
/** An XML declaration as libxml2 2.9 accepts it (xmlParseXMLDecl: version "1." and digits), without the "<?" and "?>". */
const XML_DECLARATION = /^xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]*"|'1\.[0-9]*')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][\w.-]*"|'[A-Za-z][\w.-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*$/;
/** XML 1.0 Name at the start of a string, followed by whatever. */
const NAME_AT = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*`, 'u');

/** The five predefined entities; with no DTD there can be no others (so no entity expansion at all). */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Longest entity or character reference we wait for: "&#x10FFFF;" and friends. */
const MAX_REFERENCE = 12;

/** Decodes references and normalises line ends (XML 1.0 2.11, 3.3.3). Throws XmlError. */
function decode(raw: string, attribute: boolean): string {
  if (isPlain(raw)) return raw;
  // Raw CR (alone or before LF) becomes LF; a CR written as &#13; survives because it is decoded after.
  let s = raw.indexOf('\r') >= 0 ? raw.replace(/\r\n?/g, '\n') : raw;
  if (hasNonXmlChar(s)) throw new XmlError('bad-format', 'Character not allowed in XML');
  // Attribute value normalisation: literal whitespace becomes a space, references keep their char.
  if (attribute) s = s.replace(/[\t\n]/g, ' ');
  if (s.indexOf('&') < 0) return s;
  // Pieces are joined a thousand at a time: one string per reference appended to a growing
  // result makes a chain of a million nodes for a page of text stored as &#x...; references,
  // which every young-generation collection copies until it is flattened.
  let out = '';
  let parts: string[] = [];
  let at = 0;
  for (;;) {
    const amp = s.indexOf('&', at);
    if (amp < 0) break;
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > MAX_REFERENCE) throw new XmlError('bad-format', 'Unterminated entity reference');
    const ref = s.slice(amp + 1, semi);
    let ch: string | undefined;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (m) {
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
      if (!isXmlChar(cp)) throw new XmlError('bad-format', `Character reference &${ref}; is not an XML character`);
      ch = String.fromCodePoint(cp);
    } else {
      ch = Object.prototype.hasOwnProperty.call(ENTITIES, ref) ? ENTITIES[ref] : undefined;
      if (ch === undefined) throw new XmlError('bad-format', `Undeclared entity &${ref};`);
    }
    if (amp > at) parts.push(s.slice(at, amp));
    parts.push(ch);
    at = semi + 1;
    if (parts.length >= 1024) {
      out += parts.join('');
      parts = [];
    }
  }
  parts.push(s.slice(at));
  return out + parts.join('');
}

/**
 * Whether `s` is short and holds only printable ASCII (no reference, no CR, TAB or LF, no
 * control character), so that decoding leaves it as it is: most attribute values and the text
 * of most edits. Longer strings go to the regular expressions, which scan faster.
 */
function isPlain(s: string): boolean {
  if (s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x26 /* & */) return false;
  }
  return true;
}

// Sticky form of NAME_AT for scanning a start tag in place (no substring per step).
const NAME_Y = new RegExp(NAME_AT.source.slice(1), 'uy');

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** The index of the first non-white-space character of `body` at or after `at`. */
function skipWs(body: string, at: number): number {
  while (at < body.length && isWs(body.charCodeAt(at))) at++;
  return at;
}
/** ASCII letters, '_' and ':' start a name; digits, '-' and '.' may follow. */
const isAsciiNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isAsciiNameChar = (c: number): boolean => isAsciiNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;

/**
 * End of the XML Name starting at `at` in `body`, or -1 if none starts there. Names of this
 * protocol are ASCII and are scanned by hand; a name with other characters goes to NAME_Y.
 */
function nameEnd(body: string, at: number): number {
  let i = at;
  if (i < body.length && isAsciiNameStart(body.charCodeAt(i))) {
    i++;
    while (i < body.length && isAsciiNameChar(body.charCodeAt(i))) i++;
    if (i === body.length || body.charCodeAt(i) < 0x80) return i;
  }
  NAME_Y.lastIndex = at;
  return NAME_Y.exec(body) ? NAME_Y.lastIndex : -1;
}

function parseStartTag(body: string): { name: string; attrs: Record<string, string>; empty: boolean } {
  const nameAt = nameEnd(body, 0);
  if (nameAt < 0) throw new XmlError('bad-format', 'Invalid element name');
  const name = body.slice(0, nameAt);
  const attrs: Record<string, string> = {};
  let at = nameAt;
  let empty = false;
  for (;;) {
    const from = at;
    at = skipWs(body, at);
    const ws = at - from;
    if (at === body.length) break;
    if (at === body.length - 1 && body.charCodeAt(at) === 0x2f /* / */) {
      empty = true;
      break;
    }
    if (ws === 0) throw new XmlError('bad-format', `Expected white space in <${name}>`);
    const attrEnd = nameEnd(body, at);
    if (attrEnd < 0) throw new XmlError('bad-format', `Invalid attribute name in <${name}>`);
    const attr = body.slice(at, attrEnd);
    at = skipWs(body, attrEnd);
    if (body[at] !== '=') throw new XmlError('bad-format', `Expected '=' after attribute ${attr}`);
    at = skipWs(body, at + 1);
    const q = body[at];
    if (q !== '"' && q !== "'") throw new XmlError('bad-format', `Attribute ${attr} is not quoted`);
    const close = body.indexOf(q, at + 1);
    if (close < 0) throw new XmlError('bad-format', `Unterminated value of attribute ${attr}`);
    const raw = body.slice(at + 1, close);
    if (raw.indexOf('<') >= 0) throw new XmlError('bad-format', `'<' in value of attribute ${attr}`);
    if (Object.prototype.hasOwnProperty.call(attrs, attr)) {
      throw new XmlError('bad-format', `Attribute ${attr} given twice in <${name}>`);
    }
    // "__proto__" would be swallowed by the object's prototype setter in ltx; no protocol uses it.
    if (attr !== '__proto__') attrs[attr] = decode(raw, true);
    at = close + 1;
  }
  return { name, attrs, empty };
}

export interface XmlParserOptions {
  /** 'stream': root start tag, then each child as its own event (XMPP). 'document': one whole tree. */
  mode?: 'stream' | 'document';
  limits?: Partial<XmlLimits>;
  /**
   * CDATA sections: 'text' (the default) adds their content to the element's text, as
   * libxml2's SAX parser under libinfinity's stream does; 'ignore' drops it, as libinfinity's
   * inf_xml_util_get_child_text does with the CDATA nodes of a tree libxml2 read from a file.
   */
  cdata?: 'text' | 'ignore';
}

export class XmlParser {
  private readonly mode: 'stream' | 'document';
  private readonly limits: XmlLimits;
  private readonly ignoreCdata: boolean;
  private decoder = new Utf8StreamDecoder();
  private buf = '';
  private pos = 0;
  /** buf holds only ASCII from this index on, so that the UTF-8 size of text there is its length. */
  private asciiFrom = 0;
  /** Open elements, root first. */
  private stack: Element[] = [];
  private rootSeen = false;
  private finished = false;
  private failure: XmlError | undefined;
  private failureReported = false;
  /** UTF-8 bytes of the stanza (stream mode) or document being built. */
  private elementBytes = 0;
  /** Where the scan for the end of an incomplete start tag resumes, and the quote it is in. */
  private scanAt = -1;
  private scanQuote = '';

  constructor(options: XmlParserOptions = {}) {
    this.mode = options.mode ?? 'stream';
    this.ignoreCdata = options.cdata === 'ignore';
    const base = this.mode === 'stream' ? defaultStreamLimits : { maxElementBytes: Infinity, maxDepth: 256 };
    this.limits = { ...base, ...options.limits };
  }

  /** Adds input: bytes (decoded as UTF-8, split anywhere) or an already decoded string. */
  push(chunk: Uint8Array | string): void {
    if (this.failure || this.finished) return;
    let text: string;
    let ascii: boolean;
    if (typeof chunk === 'string') {
      text = chunk;
      ascii = isAscii(chunk);
    } else {
      try {
        ({ text, ascii } = this.decoder.decode(chunk));
      } catch {
        this.fail(new XmlError('bad-format', 'Input is not valid UTF-8'));
        return;
      }
    }
    if (this.pos === this.buf.length) {
      // Everything before was consumed: start afresh instead of copying the old input along
      // (appending would make the next search flatten old and new into one more string).
      this.buf = text;
      this.pos = 0;
      this.asciiFrom = 0;
    } else {
      // Drop what was consumed first: appending to the whole buffer would copy all of it again
      // when the search for the next token flattens old and new input into one string, once per
      // chunk (a synchronisation arriving in many chunks would be copied many times over).
      this.compact();
      this.buf += text;
    }
    if (!ascii) this.asciiFrom = this.buf.length;
    this.checkPending();
  }

  /** Declares the end of input: a truncated UTF-8 sequence or an unfinished document is an error. */
  end(): void {
    if (this.failure || this.finished) return;
    try {
      this.decoder.end();
    } catch {
      this.fail(new XmlError('bad-format', 'Input ends inside a UTF-8 sequence'));
    }
  }

  /** Forgets the open elements (the old stream) but keeps the unread input, for a stream restart. */
  restart(): void {
    this.stack = [];
    this.rootSeen = false;
    this.finished = false;
    this.elementBytes = 0;
  }

  /** Whether the root element has been closed. */
  get done(): boolean {
    return this.finished;
  }

  /** Input not consumed yet that is not white space (what waits for more input to be complete). */
  get hasPendingInput(): boolean {
    return /[^ \t\r\n]/.test(this.buf.slice(this.pos));
  }

  /** The next event, or undefined when more input is needed. After an error, nothing more. */
  next(): XmlEvent | undefined {
    if (this.failure) {
      if (this.failureReported) return undefined;
      this.failureReported = true;
      return { type: 'error', error: this.failure };
    }
    try {
      const ev = this.step();
      if (this.pos > 65536 && this.pos * 2 > this.buf.length) this.compact();
      return ev;
    } catch (e) {
      this.fail(e instanceof XmlError ? e : new XmlError('bad-format', String(e)));
      return this.next();
    }
  }

  /** Drops the consumed input before pos. */
  private compact(): void {
    if (this.pos === 0) return;
    this.buf = this.buf.slice(this.pos);
    if (this.scanAt >= 0) this.scanAt -= this.pos;
    this.asciiFrom = Math.max(0, this.asciiFrom - this.pos);
    this.pos = 0;
  }

  private fail(error: XmlError): void {
    if (!this.failure) this.failure = error;
    this.buf = '';
    this.pos = 0;
    this.asciiFrom = 0;
  }

  /**
   * Bounds unread input while the consumer is not pulling (e.g. during a credential check).
   * Complete stanzas may wait here, so the cap is generous; incomplete tokens are bounded in wait().
   */
  private checkPending(): void {
    if (this.buf.length - this.pos > 2 * this.limits.maxElementBytes + 65536) {
      this.fail(new XmlError('policy-violation', `More than ${2 * this.limits.maxElementBytes} bytes of unread input`));
    }
  }

  /** More input is needed for the token at pos: bound what it may buffer (UTF-16 units never exceed UTF-8 bytes). */
  private wait(): undefined {
    if (this.buf.length - this.pos + this.elementBytes > this.limits.maxElementBytes + MAX_REFERENCE) {
      throw new XmlError('policy-violation', `Element exceeds ${this.limits.maxElementBytes} bytes`);
    }
    return undefined;
  }

  /** count() of buf[from, to): without a substring when that part of the input is ASCII. */
  private countRange(from: number, to: number, ascii: boolean): void {
    if (!this.counting()) return;
    this.addBytes(ascii ? to - from : utf8Length(this.buf.slice(from, to)));
  }

  /** `ascii`: the caller knows `s` is all ASCII (its UTF-8 size is its length). */
  private count(s: string, ascii = false): void {
    if (this.counting()) this.addBytes(ascii ? s.length : utf8Length(s));
  }

  private counting(): boolean {
    // In stream mode only stanzas count; the root header and inter-stanza white space do not.
    // Without a limit (whole documents by default) there is nothing to count for.
    return !(this.mode === 'stream' && this.stack.length < 2) && this.limits.maxElementBytes !== Infinity;
  }

  private addBytes(n: number): void {
    this.elementBytes += n;
    if (this.elementBytes > this.limits.maxElementBytes) {
      throw new XmlError('policy-violation', `Element exceeds ${this.limits.maxElementBytes} bytes`);
    }
  }

  private step(): XmlEvent | undefined {
    for (;;) {
      if (this.pos >= this.buf.length) return undefined;
      const buf = this.buf;
      if (buf.charCodeAt(this.pos) !== 0x3c /* < */) {
        if (!this.text()) return this.wait();
        continue;
      }
      // Markup: a start or end tag unless '!' or '?' follows (or nothing yet).
      const second = buf.charCodeAt(this.pos + 1);
      if (second !== 0x21 /* ! */ && second !== 0x3f /* ? */ && this.pos + 1 < buf.length) {
        const gt = this.findTagEnd();
        if (gt < 0) return this.wait();
        const start = this.pos;
        this.pos = gt + 1;
        // Markup in the ASCII part of the input is measured by its length (see count).
        const ascii = start >= this.asciiFrom;
        const ev = second === 0x2f /* / */ ? this.endTag(buf.slice(start + 2, gt), start, gt + 1, ascii) : this.startTag(buf.slice(start + 1, gt), start, gt + 1, ascii);
        if (ev) return ev;
        continue;
      }
      // Other markup. Decide what kind once enough characters are there.
      const head = buf.slice(this.pos, this.pos + 9);
      if (head.startsWith('<!--')) {
        const end = buf.indexOf('-->', this.pos + 4);
        if (end < 0) return this.wait();
        this.count(buf.slice(this.pos, end + 3));
        this.pos = end + 3;
        continue;
      }
      if (head.startsWith('<![CDATA[')) {
        const end = buf.indexOf(']]>', this.pos + 9);
        if (end < 0) return this.wait();
        const raw = buf.slice(this.pos + 9, end);
        this.count(buf.slice(this.pos, end + 3));
        this.pos = end + 3;
        const s = raw.replace(/\r\n?/g, '\n');
        if (hasNonXmlChar(s)) throw new XmlError('bad-format', 'Character not allowed in XML');
        this.addText(this.ignoreCdata && this.inStanza() ? '' : s, true);
        continue;
      }
      if (head.startsWith('<!')) {
        if (head.length < 9 && ('<![CDATA['.startsWith(head) || '<!--'.startsWith(head))) return this.wait();
        // A DOCTYPE could declare entities; XMPP (RFC 6120 11.1) and this protocol never use one.
        throw new XmlError('restricted-xml', 'Document type declarations are not allowed');
      }
      if (head.startsWith('<?')) {
        const end = buf.indexOf('?>', this.pos + 2);
        if (end < 0) return this.wait();
        const body = buf.slice(this.pos + 2, end);
        const target = NAME_AT.exec(body)?.[0] ?? '';
        // libxml2 (xmlParsePI, xmlParseXMLDecl) wants a target name, then white space or the end.
        if (target === '') throw new XmlError('bad-format', 'Processing instruction without a target');
        if (target.length < body.length && !WHITE.test(body[target.length]!)) {
          throw new XmlError('bad-format', `Processing instruction ${target}: white space expected after the target`);
        }
        if (target.toLowerCase() === 'xml') {
          if (this.rootSeen || (this.mode === 'document' && this.pos !== 0)) throw new XmlError('bad-format', 'XML declaration not at the start');
          if (!XML_DECLARATION.test(body)) throw new XmlError('bad-format', 'Malformed XML declaration');
        }
        this.count(buf.slice(this.pos, end + 2));
        this.pos = end + 2;
        continue; // processing instructions carry nothing for us; libxml2 reports, libinfinity ignores
      }
      return this.wait();
    }
  }

  /** Index of the '>' closing the tag at pos (outside quoted values), or -1; resumable. */
  private findTagEnd(): number {
    const buf = this.buf;
    let i = this.scanAt >= 0 ? this.scanAt : this.pos + 1;
    let q = this.scanAt >= 0 ? this.scanQuote : '';
    for (; i < buf.length; i++) {
      if (q) {
        const close = buf.indexOf(q, i);
        if (close < 0) {
          i = buf.length;
          break;
        }
        i = close;
        q = '';
        continue;
      }
      const c = buf.charCodeAt(i);
      if (c === 0x22 /* " */ || c === 0x27 /* ' */) q = c === 0x22 ? '"' : "'";
      else if (c === 0x3e /* > */) {
        this.scanAt = -1;
        this.scanQuote = '';
        return i;
      } else if (c === 0x3c /* < */) throw new XmlError('bad-format', "'<' inside a tag");
    }
    this.scanAt = i;
    this.scanQuote = q;
    return -1;
  }

  /** Consumes character data up to the next '<'; false if nothing could be consumed yet. */
  private text(): boolean {
    const buf = this.buf;
    const lt = buf.indexOf('<', this.pos);
    let end = lt < 0 ? buf.length : lt;
    if (lt < 0) {
      // Keep back what a later chunk may complete: a reference, or a CR that may be followed by LF.
      const amp = buf.lastIndexOf('&', end - 1);
      if (amp >= this.pos && buf.indexOf(';', amp) < 0) {
        if (buf.length - amp > MAX_REFERENCE) throw new XmlError('bad-format', 'Unterminated entity reference');
        end = amp;
      }
      if (end > this.pos && buf.charCodeAt(end - 1) === 0x0d) end--;
      // And the start of a "]]>", which character data must not contain.
      for (let k = 0; k < 2 && end > this.pos && buf.charCodeAt(end - 1) === 0x5d /* ] */; k++) end--;
      if (end === this.pos) return false;
    }
    const raw = buf.slice(this.pos, end);
    if (raw.includes(']]>')) throw new XmlError('bad-format', "Sequence ']]>' not allowed in content");
    // UTF-16 units never exceed UTF-8 bytes: refuse an oversized run before measuring it exactly.
    if (this.inStanza() && raw.length + this.elementBytes > this.limits.maxElementBytes) {
      throw new XmlError('policy-violation', `Element exceeds ${this.limits.maxElementBytes} bytes`);
    }
    this.count(raw, this.pos >= this.asciiFrom);
    this.pos = end;
    this.addText(decode(raw, false), false);
    return true;
  }

  private inStanza(): boolean {
    return this.mode === 'stream' ? this.stack.length >= 2 : this.stack.length >= 1;
  }

  private addText(s: string, cdata: boolean): void {
    const top = this.stack[this.stack.length - 1];
    if (!this.inStanza()) {
      // Between stanzas libinfinity ignores character data (white-space keep-alives, §1.1);
      // outside a document's root only white space is well-formed.
      if (this.mode === 'document' && /[^ \t\r\n]/.test(s)) {
        throw new XmlError('bad-format', 'Text outside the root element');
      }
      if (this.mode === 'stream' && !top && cdata) throw new XmlError('bad-format', 'CDATA before the stream header');
      return;
    }
    const n = top!.children.length;
    const last = n > 0 ? top!.children[n - 1] : undefined;
    if (typeof last === 'string') top!.children[n - 1] = last + s;
    else if (s !== '') top!.children.push(s);
  }

  /** A start tag: `body` is what lies between '<' and '>', the whole tag is buf[from, to). */
  private startTag(body: string, from: number, to: number, ascii: boolean): XmlEvent | undefined {
    if (this.finished) throw new XmlError('bad-format', 'Content after the root element');
    if (this.stack.length + 1 > this.limits.maxDepth) {
      throw new XmlError('policy-violation', `Elements nested deeper than ${this.limits.maxDepth}`);
    }
    const { name, attrs, empty } = parseStartTag(body);
    const el = new Element(name, attrs);
    if (this.stack.length === 0) {
      this.rootSeen = true;
      if (this.mode === 'document') this.countRange(from, to, ascii);
      if (empty) {
        this.finished = true;
        return this.mode === 'document' ? { type: 'element', element: el } : { type: 'open', element: el };
      }
      this.stack.push(el);
      return this.mode === 'stream' ? { type: 'open', element: el } : undefined;
    }
    if (this.mode === 'stream' && this.stack.length === 1) this.elementBytes = 0;
    const parent = this.stack[this.stack.length - 1]!;
    if (this.mode === 'document' || this.stack.length >= 2) {
      el.parent = parent;
      parent.children.push(el);
    }
    this.stack.push(el);
    this.countRange(from, to, ascii);
    if (empty) return this.endTag(name, -1, -1, true);
    return undefined;
  }

  /** An end tag: `body` is its name and white space, the whole tag is buf[from, to) (from < 0: an empty-element tag). */
  private endTag(body: string, from: number, to: number, ascii: boolean): XmlEvent | undefined {
    const name = body.length > 0 && isWs(body.charCodeAt(body.length - 1)) ? body.replace(/[ \t\r\n]+$/, '') : body;
    const top = this.stack[this.stack.length - 1];
    if (!top) throw new XmlError('bad-format', `Unexpected end tag </${name}>`);
    if (top.name !== name) throw new XmlError('bad-format', `<${top.name}> closed by </${name}>`);
    if (from >= 0) this.countRange(from, to, ascii);
    this.stack.pop();
    if (this.stack.length === 0) {
      this.finished = true;
      return this.mode === 'stream' ? { type: 'close' } : { type: 'element', element: top };
    }
    if (this.mode === 'stream' && this.stack.length === 1) {
      top.parent = null;
      this.elementBytes = 0;
      return { type: 'element', element: top };
    }
    return undefined;
  }
}

/**
 * Parses a whole document (a storage file, a conformance test): skips the XML declaration,
 * comments, processing instructions and surrounding white space; refuses a DOCTYPE.
 * Throws XmlError when the text is not one well-formed element.
 */
export function parseXmlDocument(text: string, limits?: Partial<XmlLimits>, cdata?: 'text' | 'ignore'): Element {
  const p = new XmlParser({ mode: 'document', limits, cdata });
  p.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  let root: Element | undefined;
  for (let ev = p.next(); ev; ev = p.next()) {
    if (ev.type === 'error') throw ev.error;
    if (ev.type === 'element') root = ev.element;
  }
  if (!root) throw new XmlError('bad-format', p.done ? 'No root element' : 'Document ends inside an element');
  // What the parser keeps back for a later chunk (a "]" that may start "]]>", a reference not yet
  // ended) is, at the end of a document, content after the root.
  if (p.hasPendingInput) throw new XmlError('bad-format', 'Text outside the root element');
  return root;
}
