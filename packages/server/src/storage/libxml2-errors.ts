/**
 * What infinoted reports for a stored file that is not well-formed XML: libxml2 (xmlReadIO, no
 * recovery) keeps parsing after most errors and infinoted reports the last one, as
 * `LIBXML2_PARSER_ERROR` with libxml2's error code, the line it was reading and its message.
 * tandemd's own parser stops at the first error, so a file it refuses is scanned again here to
 * name the error libxml2 2.9 would: the realistic damage (an empty file, a file cut off by a full
 * disk or a crash, an end tag that does not match, something after the root element, bytes that
 * are not UTF-8, an undefined entity, a control character) gets libxml2's code and words; what
 * this scan does not model is reported with the parser's own message (code 1).
 */
import { isXmlChar } from '@tandem/protocol';

export interface Libxml2Failure {
  /** libxml2's xmlParserErrors code. */
  code: number;
  /** The line libxml2 was reading (1-based). */
  line: number;
  /** libxml2's message, ending in a newline as libxml2's do. */
  message: string;
}

/** An XML name where lastIndex points (sticky: no substring per tag, a big file stays linear). */
const NAME = /[:A-Z_a-z\u00C0-\uFFFD][:A-Z_a-z\u00C0-\uFFFD\-.0-9\u00B7]*/y;
const WHITE_GT = /[ \t\r\n]*>/y;
const WHITE = /[ \t\r\n]*/y;

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);

/** The first byte that does not start or continue valid UTF-8, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    for (let k = 1; k < n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    // Overlong three- and four-byte forms, surrogates and values past U+10FFFF.
    const b1 = bytes[i + 1];
    if ((b === 0xe0 && b1! < 0xa0) || (b === 0xed && b1! >= 0xa0) || (b === 0xf0 && b1! < 0x90) || (b === 0xf4 && b1! >= 0x90)) return i;
    i += n;
  }
  return -1;
}

/**
 * The error libxml2 reports for `bytes` (a file it refuses), or undefined when this scan finds
 * none (the caller then reports its own parser's message).
 */
export function libxml2Failure(bytes: Uint8Array): Libxml2Failure | undefined {
  if (bytes.length === 0) return { code: 4, line: 1, message: 'Document is empty\n' };
  const bad = firstInvalidUtf8(bytes);
  // libxml2 reads on as Latin-1 after an encoding error; so does this scan.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(bad < 0 ? 'utf8' : 'latin1');
  let last: Libxml2Failure | undefined;
  // Where the bytes stop being UTF-8 (an index into `text`, which is then Latin-1), reported
  // when the scan gets there.
  const badAt = bad < 0 ? -1 : bad;
  const badMessage = bad < 0 ? '' : `Input is not proper UTF-8, indicate encoding !\nBytes: ${
    Array.from(bytes.subarray(bad, bad + 4), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ')}\n`;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) {
      if (i === badAt) last = { code: 9, line, message: badMessage };
      if (text.charCodeAt(i) === 0x0a) line++;
    }
    pos = to;
  };
  const fail = (code: number, message: string): Libxml2Failure => ({ code, line, message });
  const stack: { name: string; line: number }[] = [];
  let rootDone = false;
  for (;;) {
    if (stack.length === 0) {
      // Prolog or epilog: white space, comments, processing instructions, a DOCTYPE.
      advance(pos + matchAt(WHITE, text, pos)!.length);
      if (pos >= text.length) {
        if (!rootDone) return last ?? fail(4, "Start tag expected, '<' not found\n");
        return last;
      }
      const rest = text.slice(pos, pos + 9);
      const close = rest.startsWith('<!--') ? text.indexOf('-->', pos + 4) + 3 : rest.startsWith('<?') ? text.indexOf('?>', pos + 2) + 2
        : rest.startsWith('<!DOCTYPE') ? text.indexOf('>', pos) + 1 : -1;
      if (close > 1) {
        advance(close);
        continue;
      }
      if (rest.startsWith('<?') || rest.startsWith('<!')) return last ?? fail(4, "Start tag expected, '<' not found\n");
      if (rootDone) return fail(5, 'Extra content at the end of the document\n');
      if (text[pos] !== '<') return last ?? fail(4, "Start tag expected, '<' not found\n");
      if (matchAt(NAME, text, pos + 1) === undefined) return fail(68, 'StartTag: invalid element name\n');
    }
    // Content (or the root's start tag).
    const lt = text.indexOf('<', pos);
    const end = lt < 0 ? text.length : lt;
    if (stack.length > 0) {
      for (let i = pos; i < end; i++) {
        const c = text.codePointAt(i)!;
        if (c === 0x26 /* & */) {
          const ref = /^&(#x[0-9a-fA-F]+|#[0-9]+|[^\s;&<]+);/.exec(text.slice(i, i + 40));
          if (ref && ref[1]![0] !== '#' && !PREDEFINED.has(ref[1]!)) {
            advance(i);
            last = fail(26, `Entity '${ref[1]}' not defined\n`);
          }
        } else if (!isXmlChar(c) && i !== badAt) {
          advance(i);
          last = fail(9, `PCDATA invalid Char value ${c}\n`);
        }
        if (c > 0xffff) i++;
      }
    }
    advance(end);
    if (lt < 0) break;
    const head = text.slice(pos, pos + 9);
    if (head.startsWith('<!--') || head.startsWith('<![CDATA[') || head.startsWith('<?')) {
      const terminator = head.startsWith('<!--') ? '-->' : head.startsWith('<?') ? '?>' : ']]>';
      const close = text.indexOf(terminator, pos + 2);
      if (close < 0) break;
      advance(close + terminator.length);
      continue;
    }
    if (text[pos + 1] === '/') {
      const name = matchAt(NAME, text, pos + 2);
      const top = stack.pop()!;
      if (name === undefined) {
        last = fail(76, `Opening and ending tag mismatch: ${top.name} line ${top.line} and unparsable\n`);
        advance(pos + 2);
      } else {
        // libxml2 looks for the '>' first, then compares the names.
        const gt = matchAt(WHITE_GT, text, pos + 2 + name.length);
        if (gt === undefined) {
          advance(pos + 2 + name.length);
          last = fail(73, "expected '>'\n");
        } else advance(pos + 2 + name.length + gt.length);
        if (name !== top.name) last = fail(76, `Opening and ending tag mismatch: ${top.name} line ${top.line} and ${name}\n`);
      }
      if (stack.length === 0) rootDone = true;
      continue;
    }
    const name = matchAt(NAME, text, pos + 1);
    if (name === undefined) {
      advance(pos + 1);
      last = fail(68, 'StartTag: invalid element name\n');
      continue;
    }
    // The start tag's end: '>' outside quoted values.
    let i = pos + 1 + name.length;
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>' || c === '<') break;
    }
    const startLine = line;
    if (text[i] === '<') {
      // libxml2 gives up on a start tag that runs into another tag.
      advance(i);
      return fail(73, `Couldn't find end of Start Tag ${name} line ${startLine}\n`);
    }
    if (i >= text.length) {
      advance(text.length);
      last = fail(73, `Couldn't find end of Start Tag ${name} line ${startLine}\n`);
      break;
    }
    const empty = text[i - 1] === '/' && !quote;
    advance(i + 1);
    if (!empty) stack.push({ name, line: startLine });
    else if (stack.length === 0) rootDone = true;
  }
  // The end of the input.
  advance(text.length);
  const top = stack[stack.length - 1];
  if (top) return { code: 77, line, message: `Premature end of data in tag ${top.name} line ${top.line}\n` };
  return last;
}
