import { expect } from 'chai';
import { Element, XmlError, XmlParser, appendText, parseXmlDocument, readText, serialize } from '../src/index.js';

/** Byte strings copied from infinoted 0.7.2 captures (protocol.md 1.2, captures 01 and 12*). */
const ROUND_TRIP: readonly string[] = [
  '<insert-caret pos="11">ä€&lt;&amp;&gt;"\n</insert-caret>',
  '<insert-caret pos="0"><uchar codepoint="12"/>&#13;\t</insert-caret>',
  '<sync-segment author="1">&lt;&gt;&amp;"&#13;\n\txé</sync-segment>',
  '<user-join id="1" name="a&#10;b&#9;c&#13;d&gt;e" status="active" time="" caret="0" selection="0" hue="0.10000000000000001" seq="1/0"/>',
  '<add-node id="2" parent="0" name="a&quot;b&amp;#38;c&lt;d&gt;e\'g" type="InfText" seq="1/3"><subscribe group="InfSession_2" method="central"/></add-node>',
  '<stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>',
];

describe('xml basics', () => {
  for (const bytes of ROUND_TRIP) {
    it(`re-serialises ${JSON.stringify(bytes.slice(0, 40))}... byte for byte`, () => {
      expect(serialize(parseXmlDocument(bytes))).to.equal(bytes);
    });
  }

  it('reads text with uchar children in document order', () => {
    const el = parseXmlDocument('<insert-caret pos="0"><uchar codepoint="12"/>&#13;\t</insert-caret>');
    expect(readText(el)).to.equal('\f\r\t');
  });

  it('splits characters XML cannot carry into uchar elements when appending text', () => {
    const el = appendText(new Element('insert-caret', { pos: '0' }), 'a\u000c\r\tb\u0000😀');
    expect(serialize(el)).to.equal(
      '<insert-caret pos="0">a<uchar codepoint="12"/>&#13;\tb<uchar codepoint="0"/>😀</insert-caret>',
    );
    expect(readText(el)).to.equal('a\u000c\r\tb\u0000😀');
  });

  it('reads a uchar codepoint as libinfinity does (strtoul, base 0) and refuses what is no UTF-8 with its errors', () => {
    const read = (uchar: string): string => {
      try {
        return JSON.stringify(readText(parseXmlDocument(`<insert-caret pos="0">a${uchar}b</insert-caret>`)));
      } catch (err) {
        const e = err as { domain: string; code: number; message: string };
        return `${e.domain} ${e.code}: ${e.message}`;
      }
    };
    expect(read('<uchar codepoint="7"/>')).to.equal(JSON.stringify('a\u0007b'));
    expect(read('<uchar codepoint=" 7"/>')).to.equal(JSON.stringify('a\u0007b'));
    expect(read('<uchar codepoint="0x7"/>')).to.equal(JSON.stringify('a\u0007b'));
    expect(read('<uchar/>')).to.equal("INF_REQUEST_ERROR 3: Request 'uchar' does not contain required attribute 'codepoint'");
    expect(read('<uchar codepoint="x"/>')).to.equal("INF_REQUEST_ERROR 5: Attribute 'codepoint' does not contain a valid number");
    expect(read('<uchar codepoint="-1"/>')).to.equal("INF_REQUEST_ERROR 5: Attribute 'codepoint' causes overflow (-1)");
    expect(read('<uchar codepoint="55296"/>')).to.equal('g_convert_error 1: Invalid byte sequence in conversion input');
    expect(read('<uchar codepoint="1114112"/>')).to.equal('g_convert_error 1: Invalid byte sequence in conversion input');
  });

  it('writes text needing no escapes literally and quotes/apostrophes unescaped in text', () => {
    const el = appendText(new Element('message', { user: '1' }), `"it's" > <`);
    expect(serialize(el)).to.equal(`<message user="1">"it's" &gt; &lt;</message>`);
  });

  it('escapes attribute values like libxml2 (quot, amp, lt, gt, LF, CR, TAB; apostrophe literal)', () => {
    const el = new Element('x', { name: `a"b&c<d>e'f\ng\rh\ti` });
    expect(serialize(el)).to.equal(`<x name="a&quot;b&amp;c&lt;d&gt;e'f&#10;g&#13;h&#9;i"/>`);
  });

  it('keeps attribute insertion order and writes empty elements as <x/>', () => {
    const el = new Element('group', { publisher: 'you', name: 'InfDirectory' });
    el.c('explore-node', { seq: '0', id: '0' });
    expect(serialize(el)).to.equal('<group publisher="you" name="InfDirectory"><explore-node seq="0" id="0"/></group>');
  });

  it('writes non-ASCII as hexadecimal references in ascii mode (storage files)', () => {
    const el = appendText(new Element('segment', { author: '1' }), 'ä€<');
    expect(serialize(el, { ascii: true })).to.equal('<segment author="1">&#xE4;&#x20AC;&lt;</segment>');
  });

  it('decodes &amp; in attribute values to "&" (fixing infinoted quirk 10.3)', () => {
    expect(parseXmlDocument('<a name="x&amp;y"/>').attrs.name).to.equal('x&y');
    expect(parseXmlDocument('<a name="x&amp;#38;y"/>').attrs.name).to.equal('x&#38;y');
  });

  it('normalises raw CR to LF but keeps &#13; as CR', () => {
    expect(readText(parseXmlDocument('<t>a\r\nb\rc&#13;d</t>'))).to.equal('a\nb\nc\rd');
  });

  it('normalises literal white space in attribute values to spaces but keeps references', () => {
    expect(parseXmlDocument('<a v="x\ny\tz&#10;"/>').attrs.v).to.equal('x y z\n');
  });

  it('skips the prolog, comments and surrounding white space of a document', () => {
    const el = parseXmlDocument('<?xml version="1.0"?>\n<!-- c -->\n<inf-acl>\n  <sheet account="default"/>\n</inf-acl>\n');
    expect(el.name).to.equal('inf-acl');
    expect(el.getChild('sheet')?.attrs.account).to.equal('default');
  });

  it('reads CDATA sections as text', () => {
    expect(readText(parseXmlDocument('<t><![CDATA[<&>]]></t>'))).to.equal('<&>');
  });

  const BAD: readonly [string, string][] = [
    ['a DOCTYPE', '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'],
    ['an undeclared entity', '<x>&lol;</x>'],
    ['an unclosed tag', '<x><y></x>'],
    ['a missing end', '<x><y/>'],
    ['a raw control character', '<x>\u000c</x>'],
    ['a reference to a non-character', '<x>&#12;</x>'],
    ['a duplicate attribute', '<x a="1" a="2"/>'],
    ['an unquoted attribute', '<x a=1/>'],
    ['"<" in an attribute', '<x a="<"/>'],
    ['text after the root', '<x/>y'],
    ['two roots', '<x/><y/>'],
    ['a "]" after the root', '<x/>]'],
    ['an unterminated reference after the root', '<x/>&amp'],
    ['an empty document', '   '],
    // What libxml2 refuses and infinoted answers with a bad-format stream error (checked 2026-12-03).
    ["']]>' in text", '<x>a]]>b</x>'],
    ['a processing instruction without a target', '<x><? a?></x>'],
    ['a processing instruction whose target is not followed by white space', '<x><?x/l a?></x>'],
    ['an XML declaration without a version', '<?xml encoding="UTF-8"?><x/>'],
    ['an XML declaration with an unquoted attribute', "<?xml 'ersion=\"1.0\"?><x/>"],
    ['an XML declaration in capitals', '<?XML version="1.0"?><x/>'],
    ['an XML declaration of version "0"', '<?xml version="0"?><x/>'],
    ['an XML declaration of version 2.0', '<?xml version="2.0"?><x/>'],
  ];
  for (const [what, doc] of BAD) {
    it(`rejects a document with ${what}`, () => {
      expect(() => parseXmlDocument(doc)).to.throw(XmlError);
    });
  }

  it("accepts ']]' and ']>' in text and a full XML declaration and processing instructions", () => {
    expect(readText(parseXmlDocument('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><?pi?><x>]]a]>]<?pi data?>]]</x>'))).to.equal(']]a]>]]]');
  });

  it("refuses ']]>' in a stream's text when it arrives split over chunks, one byte at a time", () => {
    const input = '<stream:stream xmlns:stream="s"><group>a]]>b</group>';
    const p = new XmlParser();
    let error: XmlError | undefined;
    for (const ch of input) {
      p.push(ch);
      for (let ev = p.next(); ev; ev = p.next()) if (ev.type === 'error') error = ev.error;
    }
    expect(error?.message).to.equal("Sequence ']]>' not allowed in content");
    // And a ']' at the end of one chunk is text when no '>' follows.
    const q = new XmlParser();
    const got: string[] = [];
    for (const chunk of ['<stream:stream xmlns:stream="s"><group>a]', ']', 'b]</group>']) {
      q.push(chunk);
      for (let ev = q.next(); ev; ev = q.next()) if (ev.type === 'element') got.push(readText(ev.element));
    }
    expect(got).to.deep.equal(['a]]b]']);
  });
});

describe('xml references in bulk', () => {
  it('decodes thousands of references of every kind, in text and attributes, exactly (as storage files hold non-ASCII text)', () => {
    const pieces: Array<[string, string]> = [['&#x4E2D;', '中'], ['&#20013;', '中'], ['&#x1F600;', '😀'], ['&lt;', '<'], ['&amp;', '&'], ['&quot;', '"'], ['&apos;', "'"], ['&gt;', '>'], ['&#13;', '\r'], ['ab', 'ab'], ['', '']];
    let raw = '';
    let want = '';
    let rawAttr = '';
    let wantAttr = '';
    for (let i = 0; i < 5000; i++) {
      const [r, w] = pieces[(i * 7 + (i >> 3)) % pieces.length]!;
      raw += r;
      want += w;
      if (i === 1999) [rawAttr, wantAttr] = [raw, want];
    }
    const el = parseXmlDocument(`<segment author="1" name="${rawAttr}">${raw}</segment>`);
    expect(readText(el)).to.equal(want);
    expect(el.attrs.name).to.equal(wantAttr);
    expect(() => parseXmlDocument(`<x>${raw}&nope;</x>`)).to.throw('Undeclared entity &nope;');
    expect(() => parseXmlDocument(`<x>${raw}&#xD800;</x>`)).to.throw('is not an XML character');
    expect(() => parseXmlDocument(`<x>${raw}&#x4E2D</x>`)).to.throw('Unterminated entity reference');
  });
});
