import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { InfError } from '@tandem/protocol';
import { libxml2Failure } from '../src/storage/libxml2-errors.js';
import { decodeAcl, defaultRootSheet, encodeAcl } from '../src/storage/acl-format.js';
import { formatDouble } from '../src/storage/double.js';
import { parseStoredNote, parseStoredXml } from '../src/storage/parse.js';
import { decodeTextDocument, encodeTextDocument } from '../src/storage/text-format.js';

/** A stored note's text as tandemd reads the file of node "/t". */
const readNote = (text: string): ReturnType<typeof decodeTextDocument> => decodeTextDocument(parseStoredNote(Buffer.from(text), '/t'), '/t');

describe('InfText file format', () => {
  it('writes the prolog, indentation, &#x references and only authoring users, like infinoted', () => {
    const text = encodeTextDocument({
      users: [{ id: 2, name: 'bob', hue: 0.5 }, { id: 1, name: 'alice', hue: 0.25 }, { id: 3, name: 'idle', hue: 0.1 }],
      segments: [{ author: 2, text: 'B' }, { author: 1, text: 'Alo World' }, { author: 1, text: 'ä€<&>"\n' }],
    });
    expect(text).to.equal('<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="alice" hue="0.25"/>\n' +
      '  <user id="2" name="bob" hue="0.5"/>\n  <buffer>\n    <segment author="2">B</segment>\n' +
      '    <segment author="1">Alo World&#xE4;&#x20AC;&lt;&amp;&gt;"\n</segment>\n  </buffer>\n</inf-text-session>\n');
  });

  it('writes an empty buffer as <buffer/> and control characters as uchar', () => {
    expect(encodeTextDocument({ users: [], segments: [] })).to.equal('<?xml version="1.0"?>\n<inf-text-session>\n  <buffer/>\n</inf-text-session>\n');
    const t = encodeTextDocument({ users: [{ id: 7, name: 'u', hue: 0.6 }], segments: [{ author: 7, text: 'a\fb\r😀' }] });
    expect(t).to.include('<user id="7" name="u" hue="0.59999999999999998"/>');
    // A carriage return in text is "&#xD;" in infinoted's files (test/interop/server-storage-write.test.ts).
    expect(t).to.include('<segment author="7">a<uchar codepoint="12"/>b&#xD;&#x1F600;</segment>');
  });

  it('reads back exactly what it wrote, emoji and control characters included', () => {
    const doc = { users: [{ id: 1, name: 'çé "x"\t', hue: 0.3 }], segments: [{ author: 1, text: 'x\u0001\r\n\t😀é' }, { author: 0, text: 'y' }] };
    expect(readNote(encodeTextDocument(doc))).to.deep.equal(doc);
  });

  it('writes a segment of control characters only without indentation, and reads it back exactly', () => {
    const doc = { users: [{ id: 1, name: 'A', hue: 0.5 }, { id: 2, name: 'B', hue: 0.25 }], segments: [{ author: 1, text: 'a' }, { author: 2, text: '\u0007\u0001' }, { author: 1, text: 'b' }] };
    const t = encodeTextDocument(doc);
    expect(t).to.include('    <segment author="2"><uchar codepoint="7"/><uchar codepoint="1"/></segment>\n');
    expect(readNote(t)).to.deep.equal(doc);
  });

  it('reads such a segment as infinoted 0.7.2 writes it (indented) without the indentation', () => {
    // The bytes of a real infinoted 0.7.2 autosave: "a", then B's bell, then "b".
    const inf = '<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="A" hue="0.5"/>\n  <user id="2" name="B" hue="0.25"/>\n' +
      '  <buffer>\n    <segment author="1">a</segment>\n    <segment author="2">\n      <uchar codepoint="7"/>\n    </segment>\n' +
      '    <segment author="1">b</segment>\n  </buffer>\n</inf-text-session>\n';
    expect(readNote(inf).segments).to.deep.equal([{ author: 1, text: 'a' }, { author: 2, text: '\u0007' }, { author: 1, text: 'b' }]);
    // White space that is not exactly that indentation is content, as written.
    const mixed = '<inf-text-session><user id="1" name="A" hue="0"/><buffer><segment author="1">\n <uchar codepoint="7"/>\n    </segment></buffer></inf-text-session>';
    expect(readNote(mixed).segments[0]!.text).to.equal('\n \u0007\n    ');
  });

  it('refuses segments by unknown authors and duplicate users', () => {
    const bad = '<?xml version="1.0"?>\n<inf-text-session><buffer><segment author="4">x</segment></buffer></inf-text-session>';
    expect(() => readNote(bad)).to.throw(/ID "4"/);
    const dup = '<inf-text-session><user id="1" name="a" hue="0"/><user id="1" name="b" hue="0"/></inf-text-session>';
    expect(() => readNote(dup)).to.throw(/exists already/);
  });
});

/** The error reading `text` as the note "/t" raises: [domain, code, message]. */
function readError(text: string | Buffer): [string, number, string] {
  try {
    readNote(text as string);
  } catch (err) {
    expect(err).to.be.instanceOf(InfError);
    const e = err as InfError;
    return [e.domain, e.code, e.message];
  }
  throw new Error('read without an error');
}

describe('InfText files read as infinoted reads them', () => {
  const note = (body: string): string => `<inf-text-session>${body}</inf-text-session>`;

  it('reads ids with strtoul (base 0) and hues with g_ascii_strtod, and gives a hue GObject refuses 0', () => {
    const doc = readNote(note('<user id="0x1" name="a" hue="0x1p-2"/><user id=" 010" name="b" hue=" 0.5"/><user id="+3" name="c" hue="2"/>'
      + '<user id="4" name="d" hue="nan"/><user id="5" name="e" hue="-inf"/><buffer><segment author="8">x</segment></buffer>'));
    expect(doc.users).to.deep.equal([
      { id: 1, name: 'a', hue: 0.25 }, { id: 8, name: 'b', hue: 0.5 }, { id: 3, name: 'c', hue: 0 }, { id: 4, name: 'd', hue: 0 }, { id: 5, name: 'e', hue: 0 },
    ]);
    expect(doc.segments).to.deep.equal([{ author: 8, text: 'x' }]);
  });

  it('leaves CDATA sections, comments, processing instructions and unknown elements out of a segment\'s text', () => {
    const doc = readNote(`<?xml version="1.0" encoding="ISO-8859-1"?><?x y?>${note('<buffer><segment author="0">a<![CDATA[<b>]]>c<!-- d -->e<?pi f?>g<i>h</i>\u00e9<uchar codepoint="0x7"/></segment></buffer>')}`);
    expect(doc.segments).to.deep.equal([{ author: 0, text: 'aceg\u00e9\u0007' }]);
  });

  it('refuses content with libinfinity\'s domains, codes and words, naming the note', () => {
    const p = 'Error processing file "/t": ';
    expect(readError('<foo/>')).to.deep.equal(['INF_TEXT_FILESYSTEM_FORMAT_ERROR', 0, `${p}The document is not a text session`]);
    expect(readError(note('<user id="1" name="a" hue="0"/><user id="1" name="b" hue="0"/>'))).to.deep.equal(['INF_TEXT_FILESYSTEM_FORMAT_ERROR', 1, `${p}User with ID 1 exists already`]);
    expect(readError(note('<user id="1" name="a" hue="0"/><user id="2" name="a" hue="0"/>'))).to.deep.equal(['INF_TEXT_FILESYSTEM_FORMAT_ERROR', 1, `${p}User with name "a" exists already`]);
    expect(readError(note('<buffer><segment author="4">x</segment></buffer>'))).to.deep.equal(['INF_NOTE_PLUGIN_TEXT_ERROR', 2, `${p}User with ID "4" does not exist`]);
    expect(readError(note('<user id="1" name="a"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 3, `${p}Request 'user' does not contain required attribute 'hue'`]);
    // id, then hue, then name, as libinfinity reads them.
    expect(readError(note('<user name="a" hue="x"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 3, `${p}Request 'user' does not contain required attribute 'id'`]);
    expect(readError(note('<user id="1" hue="x"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 5, `${p}Attribute 'hue' does not contain a valid number`]);
    expect(readError(note('<user id="-1" name="a" hue="0"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 5, `${p}Attribute 'id' causes overflow (-1)`]);
    expect(readError(note('<user id="1" name="a" hue="1e400"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 5, `${p}Attribute 'hue' causes overflow (1e400)`]);
    expect(readError(note('<buffer><segment author="1 ">x</segment></buffer>'))).to.deep.equal(['INF_REQUEST_ERROR', 5, `${p}Attribute 'author' does not contain a valid number`]);
    expect(readError(note('<buffer><segment author="0">a<uchar/></segment></buffer>'))).to.deep.equal(['INF_REQUEST_ERROR', 3, `${p}Request 'uchar' does not contain required attribute 'codepoint'`]);
  });

  it('refuses what infinoted aborts on: a user id 0 and a surrogate code point', () => {
    expect(readError(note('<user id="0" name="a" hue="0"/>'))).to.deep.equal(['INF_REQUEST_ERROR', 5, 'Error processing file "/t": Attribute \'id\' must not be 0']);
    expect(readError(note('<buffer><segment author="0"><uchar codepoint="55296"/></segment></buffer>'))[0]).to.equal('g_convert_error');
  });

  it('refuses a file that is not well-formed with LIBXML2_PARSER_ERROR, the line and libxml2\'s words', () => {
    expect(readError('')).to.deep.equal(['LIBXML2_PARSER_ERROR', 4, 'Error parsing XML in file "/t": [1]: Document is empty\n']);
    expect(readError('<?xml version="1.0"?>\n<inf-text-session>\n  <buffer>\n    <segment author="0">ab')).to.deep.equal(
      ['LIBXML2_PARSER_ERROR', 77, 'Error parsing XML in file "/t": [4]: Premature end of data in tag segment line 4\n']);
    expect(readError(Buffer.from(note('<buffer><segment author="0">caf\u00e9</segment></buffer>'), 'latin1'))).to.deep.equal(
      ['LIBXML2_PARSER_ERROR', 9, 'Error parsing XML in file "/t": [1]: Input is not proper UTF-8, indicate encoding !\nBytes: 0xE9 0x3C 0x2F 0x73\n']);
  });
});

describe('libxml2\'s error for a damaged file (libxml2-errors.ts)', () => {
  // What libxml2 2.9.14 itself reported (fixtures/libxml2/generate.mjs runs it).
  const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/libxml2/truncations.json', import.meta.url), 'utf8')) as {
    note: string; prefixes: ([number, number, string] | null)[]; others: [string, [number, number, string] | null][];
  };
  const failure = (b: Buffer): [number, number, string] | null => {
    const f = libxml2Failure(b);
    return f ? [f.code, f.line, f.message] : null;
  };

  it('names libxml2\'s error for the note cut off at every byte', () => {
    const bytes = Buffer.from(fixture.note);
    expect(fixture.prefixes).to.have.length(bytes.length);
    for (let i = 0; i < bytes.length; i++) expect(failure(bytes.subarray(0, i)), `cut at ${i}: ${JSON.stringify(bytes.subarray(Math.max(0, i - 30), i).toString())}`).to.deep.equal(fixture.prefixes[i]);
  });

  it('names it for empty files, bytes that are not UTF-8, undefined entities, control characters, mismatched and extra tags', () => {
    for (const [text, want] of fixture.others) expect(failure(Buffer.from(text, 'latin1')), JSON.stringify(text)).to.deep.equal(want);
  });
});

describe('ACL file format', () => {
  it('writes the full default root sheet with account= and yes/no in enum order', () => {
    const t = encodeAcl([defaultRootSheet()]);
    expect(t).to.match(/^<\?xml version="1.0"\?>\n<inf-acl>\n  <sheet account="default" can-add-subdirectory="yes" can-add-document="yes"/);
    expect(t).to.include('can-join-user="yes" can-query-account-list="no"');
    expect(decodeAcl(parseStoredXml(t, 'a'))).to.deep.equal([defaultRootSheet()]);
  });
});

describe('double formatting', () => {
  it('matches g_ascii_dtostr (%.17g)', () => {
    expect(formatDouble(0.25)).to.equal('0.25');
    expect(formatDouble(0.3)).to.equal('0.29999999999999999');
    expect(formatDouble(0.6)).to.equal('0.59999999999999998');
    expect(formatDouble(0.90704215708311065)).to.equal('0.90704215708311065');
    expect(formatDouble(1)).to.equal('1');
    expect(formatDouble(0)).to.equal('0');
    expect(formatDouble(1e-5)).to.equal('1.0000000000000001e-05');
  });
});

describe('InfText file format on every pair of awkward pieces', () => {
  // The writer before it worked on slices: character by character, as libxml2 escapes.
  const isXml = (cp: number): boolean => cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  const ref = (c: string, attr: boolean): string => {
    const cp = c.codePointAt(0)!;
    const named: Record<string, string> = attr ? { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' } : { '<': '&lt;', '>': '&gt;', '&': '&amp;', '\r': '&#xD;' };
    return named[c] ?? (cp >= 0x80 ? `&#x${cp.toString(16).toUpperCase()};` : c);
  };
  const segmentXml = (text: string): string => {
    let out = '';
    for (const ch of text) out += isXml(ch.codePointAt(0)!) ? ref(ch, false) : `<uchar codepoint="${ch.codePointAt(0)}"/>`;
    return out;
  };

  it('writes segments and user names as the character-by-character escaper did, and reads them back', () => {
    // No lone surrogates: a document cannot hold one (UTF-8 on the wire; uchar refuses them).
    const pieces = ['a', ' ', '<', '>', '&', '"', "'", '\r', '\n', '\t', '\u0000', '\u0007', '\u001f', 'é', '€', '😀', 'e\u0301', '\ufffe', '\uffff', '\ufffd', ']]>', 'plain text '];
    for (const p of pieces) {
      for (const q of pieces) {
        const name = (p + q).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, 'x');
        const segments = [{ author: 1, text: p + q + p }, { author: 0, text: q }];
        const doc = { users: [{ id: 1, name, hue: 0.5 }], segments };
        const file = encodeTextDocument(doc);
        const what = JSON.stringify([p, q]);
        expect(file, what).to.include(`<user id="1" name="${Array.from(name, (c) => ref(c, true)).join('')}" hue="0.5"/>`);
        // A segment of uchar elements only is written unindented (see above): the same bytes.
        for (const s of segments) expect(file, what).to.include(`<segment author="${s.author}">${segmentXml(s.text)}</segment>`);
        expect(readNote(file), what).to.deep.equal(doc);
      }
    }
  });
});
