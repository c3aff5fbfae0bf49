// tandemd's web editor in a real browser (Debian's headless chromium, driven over the DevTools
// protocol) editing one document with a real libinfinity 0.7 client: what each writes reaches
// the other exactly, with authors, and concurrent typing converges. Fails, not skips, without
// chromium or libinfinity. TANDEM_SCREENSHOT_DIR keeps the screenshot (docs/web-editor.png was
// made that way).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserPage, requireChromium, startChromium } from './browser.js';
import { type InfDriver, freePort, interopFixture, mulberry32, testCertificate, testSeed, type ServerUnderTest } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const cps = (s: string): string[] => Array.from(s);

/** Code points written by each author, from libinfinity's segments. */
function authored(segments: Array<[number, string]>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [author, text] of segments) out.set(author, (out.get(author) ?? 0) + cps(text).length);
  return out;
}

describe('the web editor in headless Chromium with a real libinfinity client', function () {
  this.timeout(90000);
  const fx = interopFixture();
  let browser: Browser | undefined;

  before(() => requireChromium());

  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  interface Setup {
    server: ServerUnderTest;
    lib: InfDriver;
    libId: number;
    page: BrowserPage;
    webId: number;
    wsPort: number;
  }

  /** tandemd with --ws-port, a libinfinity client "gobby" joined to `path`, the page joined as "web". */
  async function setup(path: string, text = '', viewport?: { width: number; height: number }): Promise<Setup> {
    const wsPort = await freePort();
    const server = await fx.server(startTandemd({ securityPolicy: 'no-tls', extraArgs: [`--ws-port=${wsPort}`] }));
    await server.waitForOutput(`Web editor on http://HOST:${wsPort}/`);
    const lib = await fx.client(server, 'gobby');
    await lib.call('create', { path, ...(text ? { text } : {}) });
    await lib.call('subscribe', { path });
    const libId = (await lib.call('join', { path, name: 'gobby', hue: 0.6 })).user.id;
    browser = await startChromium();
    const page = await browser.newPage(viewport);
    await page.goto(`http://127.0.0.1:${wsPort}/?doc=${path}&user=web`);
    await page.waitFor("window.tandemEditor?.status === 'ready'", 'the editor is ready');
    // The page is ready once the server answered its join; the same user-join reaches the
    // libinfinity client on its own connection, which may read it a moment later.
    let users = (await lib.call('users', { path })).users;
    for (let i = 0; i < 50 && !users.some((u) => u.name === 'web' && u.status !== 'unavailable'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      users = (await lib.call('users', { path })).users;
    }
    const web = users.find((u) => u.name === 'web' && u.status !== 'unavailable');
    expect(web, `libinfinity sees the browser's user: ${JSON.stringify(users)}`).to.not.equal(undefined);
    return { server, lib, libId, page, webId: web!.id, wsPort };
  }

  const editorText = (page: BrowserPage): Promise<{ text: string; doc: string }> =>
    page.evaluate('({ text: tandemEditor.text, doc: tandemEditor.documentText })');

  async function typeAt(page: BrowserPage, index: number, text: string): Promise<void> {
    await page.evaluate(`(() => { const t = document.getElementById('text'); t.focus(); t.setSelectionRange(${index}, ${index}); })()`);
    await page.insertText(text);
  }

  it('shows what a libinfinity client writes, emoji, combining marks and control characters exact, keeping the caret and selection', async () => {
    const path = '/from-gobby';
    const { lib, page } = await setup(path, '0123456789');
    await page.waitFor("tandemEditor.text === '0123456789'", 'the synchronised text');
    expect(await page.evaluate<string[]>('tandemEditor.users')).to.deep.equal(['gobby', 'web']);
    expect(await page.evaluate<string>("document.getElementById('users').textContent")).to.include('web (you)');
    // The browser user has "45" selected.
    await page.evaluate("document.getElementById('text').setSelectionRange(4, 6, 'forward')");

    const model = cps('0123456789');
    const insert = async (pos: number, text: string): Promise<void> => {
      await lib.call('insert', { path, pos, text });
      model.splice(pos, 0, ...cps(text));
    };
    await insert(0, 'A😀e\u0301\u0001\t€\n'); // 8 code points, 9 UTF-16 units, before the selection
    await insert(cps('A😀e\u0301\u0001\t€\n').length + 5, '👩\u200D👧'); // inside the selection
    await insert(model.length, ' \u0007 end 🎉'); // after it
    await lib.call('delete', { path, pos: 1, len: 1 }); // the 😀 before the selection
    model.splice(1, 1);
    const expected = model.join('');

    const libText = (await lib.call('text', { path })).text;
    expect(libText).to.equal(expected);
    await page.waitFor(`tandemEditor.text === ${JSON.stringify(expected)}`, 'the libinfinity client\'s text');
    const shown = await editorText(page);
    expect(shown.text).to.equal(expected);
    expect(shown.doc).to.equal(expected);
    expect(Buffer.from(shown.text, 'utf8').equals(Buffer.from(libText, 'utf8'))).to.equal(true);

    // The selection still covers "4", the family emoji and "5": moved by the inserts in front
    // (9 units, less the 2 of the deleted emoji) and widened by the one inside it (5 units).
    const selection = await page.evaluate<{ start: number; end: number; selected: string }>(
      "(() => { const t = document.getElementById('text'); return { start: t.selectionStart, end: t.selectionEnd, selected: t.value.slice(t.selectionStart, t.selectionEnd) }; })()",
    );
    expect(selection.selected).to.equal('4👩\u200D👧5');
    expect(selection).to.include({ start: 4 + 9 - 2, end: 6 + 9 - 2 + 5 });
  });

  it('sends what is typed in the browser to the libinfinity client byte for byte, written by the browser\'s user', async () => {
    const path = '/from-browser';
    const { lib, page, webId } = await setup(path, 'gobby: ');
    await typeAt(page, cps('gobby: ').length, 'Grüße 😀 e\u0301 \u0007 tab\tend');
    await page.press('Enter');
    await page.insertText('🎉x');
    await page.press('Backspace'); // x
    await page.press('Backspace'); // the whole 🎉 (both UTF-16 units)
    const typed = 'Grüße 😀 e\u0301 \u0007 tab\tend\n';
    const expected = 'gobby: ' + typed;
    await page.waitFor(`tandemEditor.text === ${JSON.stringify(expected)}`, 'the typed text in the textarea');

    const got = await lib.call('wait_text', { path, text: expected }, { timeoutMs: 20000 });
    expect(Buffer.from(got.text, 'utf8').equals(Buffer.from(expected, 'utf8'))).to.equal(true);
    // The uploaded text has no author (0), the rest is the browser user's.
    expect(got.segments).to.deep.equal([[0, 'gobby: '], [webId, typed]]);
    expect((await editorText(page)).doc).to.equal(expected);
  });

  it('keeps the carriage returns of a document although its textarea shows them as line feeds', async () => {
    const path = '/crlf';
    const { lib, page, webId } = await setup(path, 'one\r\ntwo\rthree\n');
    await page.waitFor("tandemEditor.text === 'one\\ntwo\\nthree\\n'", 'the text with LF for CR');
    // Typed at the start of "three" (textarea index 8; document index 9, after "one" CR LF "two" CR).
    await typeAt(page, 8, '3: ');
    const expected = 'one\r\ntwo\r3: three\n';
    const got = await lib.call('wait_text', { path, text: expected }, { timeoutMs: 20000 });
    expect(got.segments).to.deep.equal([[0, 'one\r\ntwo\r'], [webId, '3: '], [0, 'three\n']]);
    // A remote insert after a CR LF moves the caret by what it inserts, in the textarea's terms.
    await page.evaluate("document.getElementById('text').setSelectionRange(9, 9)");
    await lib.call('insert', { path, pos: 5, text: 'A\r\n' });
    await page.waitFor("tandemEditor.text === 'one\\nA\\ntwo\\n3: three\\n'", 'the remote line');
    expect(await page.evaluate<number>("document.getElementById('text').selectionStart")).to.equal(11);
    expect(await page.evaluate<string>('tandemEditor.documentText')).to.equal('one\r\nA\r\ntwo\r3: three\n');
  });

  it('converges when the browser and the libinfinity client type at once', async () => {
    const seed = testSeed();
    const rand = mulberry32(seed);
    const path = '/together';
    const start = 'shared start\n';
    const { lib, page, webId, libId } = await setup(path, start);
    const webPieces = ['w', 'ég', '😀', 'e\u0301', '\t', 'web ', '\u0001'];
    const libPieces = ['L', 'ß', '🎉', 'a\u0308', '\f', 'lib ', '\u0002'];
    let webTyped = 0;
    let libTyped = 0;
    const browserTypes = async (): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        const piece = webPieces[Math.floor(rand() * webPieces.length)]!;
        // A caret between whole characters of what the textarea shows now.
        const at = await page.evaluate<number>(`(() => { const t = tandemEditor.text; const cs = Array.from(t); const k = Math.floor(${rand()} * (cs.length + 1)); return cs.slice(0, k).join('').length; })()`);
        await typeAt(page, at, piece);
        webTyped += cps(piece).length;
      }
    };
    const libTypes = async (): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        const piece = libPieces[Math.floor(rand() * libPieces.length)]!;
        const { length } = await lib.call('text', { path }).then((t) => ({ length: cps(t.text).length }));
        await lib.call('insert', { path, pos: Math.floor(rand() * (length + 1)), text: piece, clamp: true });
        libTyped += cps(piece).length;
      }
    };
    await Promise.all([browserTypes(), libTypes()]);

    // Everything typed is there once: converged when both sides have the same, full-length text.
    const total = cps(start).length + webTyped + libTyped;
    let libText = '';
    let shown = { text: '', doc: '' };
    for (let i = 0; i < 100; i++) {
      libText = (await lib.call('text', { path })).text;
      shown = await editorText(page);
      if (shown.text === libText && shown.doc === libText && cps(libText).length === total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(shown.doc, `the browser's document (seed ${seed})`).to.equal(libText);
    expect(shown.text, `the browser's textarea (seed ${seed})`).to.equal(libText);
    expect(cps(libText).length).to.equal(total);
    const by = authored((await lib.call('text', { path })).segments);
    expect(by.get(webId), 'characters written by the browser').to.equal(webTyped);
    expect(by.get(libId), 'characters written by libinfinity').to.equal(libTyped);
    expect(by.get(0), 'the uploaded start, written by nobody').to.equal(cps(start).length);
  });

  it('connects with wss:// when the page came over https://, and shows when the server goes away', async () => {
    const path = '/secure';
    const wsPort = await freePort();
    const server = await fx.server(startTandemd({ securityPolicy: 'require-tls', extraArgs: [`--ws-port=${wsPort}`] }));
    await server.waitForOutput(`Web editor on https://HOST:${wsPort}/`);
    const lib = await fx.client(server, 'gobby');
    await lib.call('create', { path, text: 'over TLS\n' });
    await lib.call('subscribe', { path });
    await lib.call('join', { path, name: 'gobby' });
    browser = await startChromium({ trustCertificates: [readFileSync(testCertificate().certFile, 'utf8')] });
    const page = await browser.newPage();
    await page.goto(`https://127.0.0.1:${wsPort}/?doc=${path}&user=web`);
    await page.waitFor("window.tandemEditor?.status === 'ready'", 'the editor is ready over TLS');
    expect(await page.evaluate<{ tls: boolean }>('tandemEditor.client.security')).to.include({ tls: true });
    await typeAt(page, 'over TLS\n'.length, 'from a browser 😀');
    await lib.call('wait_text', { path, text: 'over TLS\nfrom a browser 😀' }, { timeoutMs: 20000 });

    await server.stop();
    // On failure, say what the page shows and how tandemd ended (seen once in CI: not closed in 20 s).
    await page.waitFor("tandemEditor.status === 'closed'", 'the closed connection shown', 30000).catch(async (err: Error) => {
      const shown = await page.evaluate<string>("`${tandemEditor.status}: ${document.getElementById('status').textContent}`").catch((e: Error) => e.message);
      throw new Error(`${err.message}\nthe page shows: ${shown}\ntandemd ${server.exitStatus() === null ? 'still runs' : `exited (${server.exitStatus()})`}; its output:\n${server.output()}`);
    });
    const after = await page.evaluate<{ message: string; readOnly: boolean; users: string[] }>(
      "({ message: document.getElementById('status').textContent, readOnly: document.getElementById('text').readOnly, users: tandemEditor.users })",
    );
    expect(after.message).to.match(/^(Disconnected|The document was closed)/);
    expect(after.readOnly).to.equal(true);
    expect(after.users).to.deep.equal([]);
  });

  it('shows the document, who is editing and the connection in a screenshot', async () => {
    const path = '/notes';
    const { lib, page } = await setup(path, '', { width: 1000, height: 320 });
    const first = 'Written by a libinfinity client (user "gobby"): Grüße 😀 e\u0301\n';
    await lib.call('insert', { path, pos: 0, text: first });
    await page.waitFor(`tandemEditor.text === ${JSON.stringify(first)}`, 'the libinfinity line');
    await typeAt(page, first.length, 'Typed in Chromium (user "web"): ✓ ☕ 😀\n');
    const second = first + 'Typed in Chromium (user "web"): ✓ ☕ 😀\n';
    await lib.call('wait_text', { path, text: second }, { timeoutMs: 20000 });
    const third = 'And back from libinfinity, the same second.\n';
    await lib.call('insert', { path, pos: cps(second).length, text: third });
    const expected = second + third;
    await page.waitFor(`tandemEditor.text === ${JSON.stringify(expected)}`, 'the third line');
    await page.evaluate("document.getElementById('text').blur()");
    const png = await page.screenshot();
    expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
    // IHDR: width and height of the viewport.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).to.deep.equal([1000, 320]);
    expect(await page.evaluate<string>("document.getElementById('status').textContent")).to.equal('Editing /notes as web');
    const dir = process.env.TANDEM_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'tandem-web-editor-shot-'));
    writeFileSync(join(dir, 'web-editor.png'), png);
  });
});
