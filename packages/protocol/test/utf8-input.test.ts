// The parser's input path: strict incremental UTF-8 (chunks split anywhere), the fast check for
// characters XML cannot carry, and exact element sizes when it skips measuring ASCII text.
import { expect } from 'chai';
import { type Element, XmlParser, type XmlEvent, serialize } from '../src/index.js';
import { NON_XML_CHAR, hasNonXmlChar, utf8Length } from '../src/xml/chars.js';
import { Utf8StreamDecoder } from '../src/xml/utf8.js';

const HEADER = '<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">';

/** Every event of a stream fed as `chunks`. */
function feed(chunks: Array<Uint8Array | string>, limits?: { maxElementBytes?: number }): XmlEvent[] {
  const p = new XmlParser({ limits });
  const out: XmlEvent[] = [];
  for (const c of chunks) {
    p.push(c);
    for (let ev = p.next(); ev; ev = p.next()) out.push(ev);
  }
  return out;
}

const stanzas = (events: XmlEvent[]): string[] => events.flatMap((e) => (e.type === 'element' ? [serialize(e.element as Element)] : []));
const errors = (events: XmlEvent[]): string[] => events.flatMap((e) => (e.type === 'error' ? [`${e.error.condition}: ${e.error.message}`] : []));

describe('XML input: UTF-8 split anywhere, characters and sizes', () => {
  // 1-, 2-, 3- and 4-byte sequences, a combining mark, references and a control as uchar.
  const stanza = '<message user="é😀">a é € 😀 e\u0301 &lt;&amp;&#x1F389; <uchar codepoint="7"/> z</message>';
  const bytes = Buffer.from(HEADER + stanza, 'utf8');
  const expected = stanzas(feed([HEADER + stanza]));

  it('parses the same stanza whatever byte the input is split at (two chunks, and one byte at a time)', () => {
    expect(expected).to.have.length(1);
    expect(expected[0]).to.include('a é € 😀 e\u0301 &lt;&amp;🎉');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const events = feed([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(errors(events), `cut at byte ${cut}`).to.deep.equal([]);
      expect(stanzas(events), `cut at byte ${cut}`).to.deep.equal(expected);
    }
    const single = feed(Array.from(bytes, (b) => Uint8Array.of(b)));
    expect(stanzas(single)).to.deep.equal(expected);
  });

  const bad: Array<[string, number[]]> = [
    ['an overlong NUL (C0 80)', [0xc0, 0x80]],
    ['a lone continuation byte', [0x80]],
    ['an encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a lead byte past U+10FFFF (F5)', [0xf5, 0x80, 0x80, 0x80]],
    ['a 3-byte lead followed by ASCII', [0xe2, 0x82, 0x41]],
    ['FF', [0xff]],
  ];
  for (const [what, seq] of bad) {
    it(`refuses ${what} as not UTF-8, wherever the chunks are cut`, () => {
      const input = Buffer.concat([Buffer.from(HEADER + '<message>ok '), Buffer.from(seq), Buffer.from(' ok</message>')]);
      for (let cut = 0; cut <= input.length; cut++) {
        const events = feed([input.subarray(0, cut), input.subarray(cut)]);
        expect(errors(events), `cut at byte ${cut}`).to.deep.equal(['bad-format: Input is not valid UTF-8']);
        expect(stanzas(events)).to.deep.equal([]);
      }
    });
  }

  for (const useNodeBuffer of [true, false]) {
    it(`decodes the same text and refuses the same bytes on the ${useNodeBuffer ? 'node:buffer' : 'TextDecoder (browser)'} path, split anywhere`, () => {
      const good = Buffer.from('a é € 😀 e\u0301 \u0000 end', 'utf8');
      for (let cut = 0; cut <= good.length; cut++) {
        const d = new Utf8StreamDecoder({ useNodeBuffer });
        const first = d.decode(good.subarray(0, cut));
        const second = d.decode(good.subarray(cut));
        expect(first.text + second.text + d.end(), `cut at ${cut}`).to.equal(good.toString('utf8'));
        expect(first.ascii, `cut at ${cut}`).to.equal(!/[^\x00-\x7f]/.test(first.text));
        expect(second.ascii, `cut at ${cut}`).to.equal(!/[^\x00-\x7f]/.test(second.text));
      }
      for (const [, seq] of bad) {
        const input = Buffer.concat([Buffer.from('ok '), Buffer.from(seq), Buffer.from(' ok')]);
        for (let cut = 0; cut <= input.length; cut++) {
          const d = new Utf8StreamDecoder({ useNodeBuffer });
          expect(() => {
            d.decode(input.subarray(0, cut));
            d.decode(input.subarray(cut));
            d.end();
          }, `${JSON.stringify(seq)} cut at ${cut}`).to.throw(/UTF-8/);
        }
      }
      const truncated = new Utf8StreamDecoder({ useNodeBuffer });
      truncated.decode(Buffer.from([0x61, 0xe2, 0x82]));
      expect(() => truncated.end()).to.throw(/UTF-8/);
    });
  }

  it('holds back an incomplete sequence until it is complete, and refuses input that ends inside one', () => {
    const d = new Utf8StreamDecoder();
    const euro = Buffer.from('x€', 'utf8');
    expect(d.decode(euro.subarray(0, 2))).to.deep.equal({ text: 'x', ascii: true });
    expect(d.decode(euro.subarray(2))).to.deep.equal({ text: '€', ascii: false });
    expect(d.end()).to.equal('');
    const cut = new Utf8StreamDecoder();
    expect(cut.decode(Buffer.from([0x61, 0xf0, 0x9f]))).to.deep.equal({ text: 'a', ascii: true });
    expect(() => cut.end()).to.throw('Input ends inside a UTF-8 sequence');
  });

  it('does not let the chunk it holds back change when the transport reuses its memory', () => {
    const d = new Utf8StreamDecoder();
    const chunk = Buffer.from([0x41, 0xe2, 0x82]);
    expect(d.decode(chunk).text).to.equal('A');
    chunk.fill(0x20);
    expect(d.decode(Buffer.from([0xac])).text).to.equal('€');
  });

  it('measures a stanza in UTF-8 bytes exactly: a limit of N passes N bytes and refuses N + 1, however ASCII and non-ASCII chunks mix', () => {
    // Filler stanzas first move the parser's read position past its compaction threshold
    // (64 Ki characters); they come in small chunks, as a socket delivers them.
    const fillers = ('<x>' + 'f'.repeat(40) + '</x>').repeat(2000);
    const fillerChunks: Buffer[] = [];
    const head = Buffer.from(HEADER + fillers, 'utf8');
    for (let i = 0; i < head.length; i += 1000) fillerChunks.push(head.subarray(i, i + 1000));
    const bodies = ['a'.repeat(50) + '€😀' + 'b'.repeat(50), 'é'.repeat(40), 'plain ascii text only, '.repeat(4), '😀'.repeat(10) + 'tail', 'x'.repeat(60) + 'é'];
    // Each body once with an ASCII start tag and once with a non-ASCII attribute value.
    for (const el of bodies.flatMap((body) => [`<m>${body}</m>`, `<m a="é😀">${body}</m>`])) {
      const size = utf8Length(el);
      for (const limit of [size, size - 1]) {
        const tail = Buffer.from(el + '<x/>', 'utf8');
        // The stanza arrives in pieces: some ASCII-only, some not, a sequence split between two.
        const cuts = [0, 3, 6, 40, 55, 56, tail.length];
        const pieces = [...fillerChunks, ...cuts.slice(1).map((c, i) => tail.subarray(cuts[i]!, c))];
        // And once with the stanza in the chunk during which the parser compacts its input.
        const together = [...fillerChunks.slice(0, 60), Buffer.concat([...fillerChunks.slice(60), tail])];
        for (const chunks of [pieces, together]) {
          const events = feed(chunks, { maxElementBytes: limit });
          if (limit === size) {
            expect(errors(events), `${el}: limit ${limit} = size`).to.deep.equal([]);
            // Written back as libxml2 writes it: non-ASCII in attribute values as references.
            expect(stanzas(events).slice(-2)).to.deep.equal([el.replace('a="é😀"', 'a="&#xE9;&#x1F600;"'), '<x/>']);
          } else {
            expect(errors(events), `${el}: limit ${limit}, size ${size}`).to.deep.equal([`policy-violation: Element exceeds ${limit} bytes`]);
          }
        }
      }
    }
  });

  it('gives the same stanzas for a long mixed stream however it is cut into chunks (seeded)', () => {
    const seed = Number(process.env.TANDEM_SEED ?? 20261203);
    console.log(`      seed ${seed} (TANDEM_SEED)`);
    let x = seed >>> 0;
    const rand = (n: number): number => {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return x % n;
    };
    const kinds = [
      (i: number) => `<sync-request user="${i % 7}" time="1:${i};2:${i * 3}"><insert pos="${i}">tag${i}</insert></sync-request>`,
      (i: number) => `<m a="tab\there&amp;&#10;line\r\nend" b='q"${i}'>é😀 e\u0301 ${i}</m >`,
      (i: number) => `<!-- note ${i} --><e n="${i}"/>`,
      (i: number) => `<?pi ${i}?><c><![CDATA[<raw> & ${i}]]>\r\n&lt;${i}&gt;</c>`,
      (i: number) => `<t>${'x'.repeat(i % 300)}&#x1F389;${'y'.repeat(i % 70)}</t>`,
    ];
    const body = Array.from({ length: 2000 }, (_, i) => kinds[rand(kinds.length)]!(i)).join(' ');
    const whole = feed([HEADER + body]);
    const expected = stanzas(whole);
    expect(errors(whole)).to.deep.equal([]);
    expect(expected).to.have.length.above(1999);
    const largest = Math.max(...expected.map((e) => utf8Length(e)));
    const bytes = Buffer.from(HEADER + body, 'utf8');
    for (let round = 0; round < 4; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + rand(round === 0 ? 16 : 4096);
        chunks.push(bytes.subarray(at, at + n));
        at += n;
      }
      // A limit of twice the largest re-serialised stanza: what the parser measures is the input.
      const events = feed(chunks, { maxElementBytes: 2 * largest });
      expect(errors(events), `seed ${seed}, round ${round}`).to.deep.equal([]);
      expect(stanzas(events), `seed ${seed}, round ${round}`).to.deep.equal(expected);
    }
  });

  it('finds characters XML cannot carry exactly as the full pattern does, for every string of up to 4 units from a mixed alphabet', () => {
    const units = [0x41, 0x9, 0xa, 0xd, 0x0, 0x7, 0x1f, 0x20, 0xe9, 0x20ac, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffd, 0xfffe, 0xffff].map((u) => String.fromCharCode(u));
    let strings = [''];
    for (let len = 1; len <= 4; len++) {
      strings = strings.flatMap((s) => units.map((u) => s + u));
      for (const s of strings) {
        if (hasNonXmlChar(s) !== NON_XML_CHAR.test(s)) expect.fail(`hasNonXmlChar(${JSON.stringify(s)}) is ${hasNonXmlChar(s)}`);
      }
    }
    expect(hasNonXmlChar('😀 e\u0301 \t\r\n')).to.equal(false);
    expect(hasNonXmlChar('a\ud83d')).to.equal(true);
  });

  it('counts UTF-8 bytes of ASCII and other text alike', () => {
    expect(utf8Length('abc')).to.equal(3);
    expect(utf8Length('é€😀')).to.equal(2 + 3 + 4);
    expect(utf8Length('a\ud800')).to.equal(1 + 3);
  });
});
