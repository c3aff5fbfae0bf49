import { expect } from 'chai';
import { decodeAcl, defaultRootSheet, encodeAcl } from '../src/storage/acl-format.js';
import { formatDouble } from '../src/storage/double.js';
import { parseStoredXml } from '../src/storage/parse.js';
import { decodeTextDocument, encodeTextDocument } from '../src/storage/text-format.js';

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
    expect(t).to.include('<segment author="7">a<uchar codepoint="12"/>b&#13;&#x1F600;</segment>');
  });

  it('reads back exactly what it wrote, emoji and control characters included', () => {
    const doc = { users: [{ id: 1, name: 'çé "x"\t', hue: 0.3 }], segments: [{ author: 1, text: 'x\u0001\r\n\t😀é' }, { author: 0, text: 'y' }] };
    expect(decodeTextDocument(parseStoredXml(encodeTextDocument(doc), 't'))).to.deep.equal(doc);
  });

  it('writes a segment of control characters only without indentation, and reads it back exactly', () => {
    const doc = { users: [{ id: 1, name: 'A', hue: 0.5 }, { id: 2, name: 'B', hue: 0.25 }], segments: [{ author: 1, text: 'a' }, { author: 2, text: '\u0007\u0001' }, { author: 1, text: 'b' }] };
    const t = encodeTextDocument(doc);
    expect(t).to.include('    <segment author="2"><uchar codepoint="7"/><uchar codepoint="1"/></segment>\n');
    expect(decodeTextDocument(parseStoredXml(t, 't'))).to.deep.equal(doc);
  });

  it('reads such a segment as infinoted 0.7.2 writes it (indented) without the indentation', () => {
    // The bytes of a real infinoted 0.7.2 autosave: "a", then B's bell, then "b".
    const inf = '<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="A" hue="0.5"/>\n  <user id="2" name="B" hue="0.25"/>\n' +
      '  <buffer>\n    <segment author="1">a</segment>\n    <segment author="2">\n      <uchar codepoint="7"/>\n    </segment>\n' +
      '    <segment author="1">b</segment>\n  </buffer>\n</inf-text-session>\n';
    expect(decodeTextDocument(parseStoredXml(inf, 'inf')).segments).to.deep.equal([{ author: 1, text: 'a' }, { author: 2, text: '\u0007' }, { author: 1, text: 'b' }]);
    // White space that is not exactly that indentation is content, as written.
    const mixed = '<inf-text-session><user id="1" name="A" hue="0"/><buffer><segment author="1">\n <uchar codepoint="7"/>\n    </segment></buffer></inf-text-session>';
    expect(decodeTextDocument(parseStoredXml(mixed, 'm')).segments[0]!.text).to.equal('\n \u0007\n    ');
  });

  it('refuses segments by unknown authors and duplicate users', () => {
    const bad = '<?xml version="1.0"?>\n<inf-text-session><buffer><segment author="4">x</segment></buffer></inf-text-session>';
    expect(() => decodeTextDocument(parseStoredXml(bad, 'b'))).to.throw(/ID "4"/);
    const dup = '<inf-text-session><user id="1" name="a" hue="0"/><user id="1" name="b" hue="0"/></inf-text-session>';
    expect(() => decodeTextDocument(parseStoredXml(dup, 'b'))).to.throw(/exists already/);
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
    const named: Record<string, string> = attr ? { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' } : { '<': '&lt;', '>': '&gt;', '&': '&amp;', '\r': '&#13;' };
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
        expect(decodeTextDocument(parseStoredXml(file, 't')), what).to.deep.equal(doc);
      }
    }
  });
});
