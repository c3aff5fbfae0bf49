// Gobby 0.6 itself (Debian `gobby`, under Xvfb, typed into with xdotool) against tandemd, with the
// real infinoted as the reference run of the same scenario. The server's copy is read back through
// the real libinfinity client library, so what Gobby typed is checked on the server, not on screen.
// Set TANDEM_SCREENSHOT_DIR to keep the screenshots (docs/gobby-tandemd.png was made that way).
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingGobbyTools, startGobby, startXvfb, type Display, type Gobby } from './gobby/gobby.js';
import { requireRealLibinfinity, startDriver, startInfinoted, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const servers: [string, () => Promise<ServerUnderTest>][] = [
  ['infinoted', () => startInfinoted({ securityPolicy: 'no-tls' })],
  ['tandemd', () => startTandemd({ securityPolicy: 'no-tls' })],
];

for (const [kind, start] of servers) {
  describe(`Gobby 0.6 against ${kind}`, function () {
    this.timeout(90_000);
    let display: Display | undefined;
    let gobby: Gobby | undefined;
    let server: ServerUnderTest | undefined;
    let driver: InfDriver | undefined;

    before(function () {
      requireRealLibinfinity();
      const missing = missingGobbyTools();
      if (missing) throw new Error(`the Gobby interop test needs Gobby under Xvfb: ${missing}`);
    });

    afterEach(async () => {
      await gobby?.stop();
      await display?.stop();
      await driver?.stop();
      await server?.stop();
      gobby = display = driver = server = undefined;
    });

    it('opens a document by URI, and what the user types reaches the server and other clients', async () => {
      server = await start();
      driver = await startDriver();
      await driver.call('connect', { port: server.port, security: 'no-tls', user: 'reader' });
      await driver.call('create', { path: '/notes', text: 'Hello from libinfinity\n' });
      await driver.call('subscribe', { path: '/notes' });

      display = await startXvfb();
      gobby = await startGobby(display, `infinote://127.0.0.1:${server.port}/notes`, 'gobbyuser', 'notes');
      // Gobby joins the session as its configured user once the document is synchronised.
      const joined = async () => {
        const { users } = (await driver!.call('users', { path: '/notes' })) as { users: { name: string; status: string }[] };
        return users.some((u) => u.name === 'gobbyuser' && u.status !== 'unavailable');
      };
      for (let i = 0; i < 50 && !(await joined()); i++) await new Promise((r) => setTimeout(r, 200));
      expect(await joined(), 'Gobby user joined').to.equal(true);

      await gobby.click(500, 250);
      await gobby.key('ctrl+End');
      await gobby.type('Typed in Gobby: é ✓');
      const expected = 'Hello from libinfinity\nTyped in Gobby: é ✓';
      const state = (await driver.call('wait_text', { path: '/notes', text: expected }, { timeoutMs: 20_000 })) as {
        text: string;
        segments: [number, string][];
      };
      expect(state.text).to.equal(expected);
      // The typed run is authored by Gobby's user, not by the uploader's author 0.
      const last = state.segments[state.segments.length - 1]!;
      expect(last[1]).to.equal('Typed in Gobby: é ✓');
      expect(last[0]).to.not.equal(0);

      // A remote edit shows up in Gobby; the screenshot documents it.
      await driver.call('join', { path: '/notes', name: 'reader' });
      await driver.call('insert', { path: '/notes', pos: 0, text: `[${kind}] ` });
      await new Promise((r) => setTimeout(r, 1500));
      const dir = process.env.TANDEM_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'tandem-gobby-shot-'));
      gobby.screenshot(join(dir, `gobby-${kind}.png`));
      const final = (await driver.call('text', { path: '/notes' })) as { text: string };
      expect(final.text).to.equal(`[${kind}] ${expected}`);
    });
  });
}
