// The linekeeper plugin with real libinfinity clients: tandemd (and infinoted 0.7.2, for
// comparison) started with --plugins note-text,linekeeper and n-lines=2 keep exactly two line
// breaks at the end of a document while two clients type and delete concurrently; every client
// and the stored file agree, and the clients see the "LineKeeper" user that made those edits.
import { expect } from 'chai';
import { FilesystemStorage } from '@tandem/server';
import { requireRealLibinfinity, startDriver, startInfinoted, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { startTandemd, type TandemdUnderTest } from './server-harness.js';

const N_LINES = 2;

/** Polls `probe` until it returns a value (not undefined) or 20 s pass. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20000;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 20 s${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const endsWithExactly = (text: string, n: number): boolean => text.endsWith('\n'.repeat(n)) && !text.endsWith('\n'.repeat(n + 1));

describe('linekeeper with real libinfinity clients', function () {
  this.timeout(90000);
  let servers: ServerUnderTest[] = [];
  let drivers: InfDriver[] = [];
  before(() => requireRealLibinfinity());
  afterEach(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    drivers = [];
    servers = [];
  });

  for (const which of ['tandemd', 'infinoted'] as const) {
    it(`${which}: keeps exactly n-lines line breaks at the end while two clients edit; clients converge and see the LineKeeper user`, async () => {
      const o = { securityPolicy: 'no-tls' as const, plugins: ['note-text', 'linekeeper'], extraArgs: [`--plugin-parameter=linekeeper:n-lines:${N_LINES}`] };
      const s = which === 'tandemd' ? await startTandemd(o) : await startInfinoted(o);
      servers.push(s);
      const a = await startDriver();
      const b = await startDriver();
      drivers.push(a, b);
      for (const d of [a, b]) await d.call('connect', { port: s.port, security: 'no-tls', user: d === a ? 'alice' : 'bob' });
      await a.call('create', { path: '/doc', text: 'hello 😀\n\n\n\n' });
      await a.call('subscribe', { path: '/doc' });
      await a.call('join', { path: '/doc', name: 'alice', hue: 0.25 });
      // Once alice is there, LineKeeper joins and trims the four line breaks to two.
      await eventually('the first trim', async () => ((await a.call('text', { path: '/doc' })).text === 'hello 😀\n\n' ? true : undefined));
      await b.call('subscribe', { path: '/doc' });
      await b.call('join', { path: '/doc', name: 'bob', hue: 0.5 });

      // Typing at the end, deleting the line breaks and typing in the middle, concurrently.
      const aLen = (await a.call('text', { path: '/doc' })).text;
      await Promise.all([
        a.call('insert', { path: '/doc', pos: [...aLen].length, text: 'more text', clamp: true }),
        b.call('insert', { path: '/doc', pos: 2, text: 'ẞ\u0301', clamp: true }),
      ]);
      // Both views, not only alice's: bob deletes the last line breaks of what he sees, and on a
      // slow machine his view could still lack LineKeeper's line breaks after "more text".
      await eventually('appended text followed by two line breaks', async () => {
        const [ta, tb] = await Promise.all([a.call('text', { path: '/doc' }), b.call('text', { path: '/doc' })]);
        return ta.text === tb.text && ta.text.includes('more text') && endsWithExactly(ta.text, N_LINES) ? true : undefined;
      });
      const len = [...(await b.call('text', { path: '/doc' })).text].length;
      await b.call('delete', { path: '/doc', pos: len - N_LINES, len: N_LINES, clamp: true });
      await a.call('insert', { path: '/doc', pos: 0, text: 'top\n', clamp: true });

      const final = await eventually('convergence with two trailing line breaks', async () => {
        const [ta, tb] = await Promise.all([a.call('text', { path: '/doc' }), b.call('text', { path: '/doc' })]);
        return ta.text === tb.text && endsWithExactly(ta.text, N_LINES) && ta.text.startsWith('top\n') ? ta.text : undefined;
      });
      expect(final).to.match(/more text\n\n$/);

      // The edits are authored by a real user both clients know.
      for (const d of [a, b]) {
        const users = (await d.call('users', { path: '/doc' })).users;
        const keeper = users.find((u) => u.name === 'LineKeeper');
        expect(keeper, JSON.stringify(users)).to.not.equal(undefined);
        expect(keeper!.local).to.equal(false);
        expect(keeper!.status).to.not.equal('unavailable');
      }
      // A fresh subscriber gets the same text by synchronisation.
      const c = await startDriver();
      drivers.push(c);
      await c.call('connect', { port: s.port, security: 'no-tls', user: 'carol' });
      expect((await c.call('subscribe', { path: '/doc' })).text).to.equal(final);

      if (which === 'tandemd') {
        // tandemd saves on SIGTERM: the stored document is the same text, LineKeeper among its authors.
        await s.stop();
        const stored = await new FilesystemStorage((s as TandemdUnderTest).root).readText(['doc']);
        expect(stored.segments.map((x) => x.text).join('')).to.equal(final);
        const keeperId = stored.users.find((u) => u.name === 'LineKeeper')?.id;
        expect(keeperId).to.be.a('number');
        expect(stored.segments.some((x) => x.author === keeperId)).to.equal(true);
      }
    });
  }
});
