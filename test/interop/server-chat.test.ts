// The server-wide chat with real libinfinity clients (infdriver.py), against infinoted as the
// reference and against tandemd: messages both ways, and the backlog a late subscriber receives.
import { expect } from 'chai';
import { interopFixture, startInfinoted, type ChatMessage, type DriverEvent, type ServerUnderTest, type StartServer } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const isChat = (e: DriverEvent): e is Extract<DriverEvent, { event: 'chat' }> => e.event === 'chat';
const brief = (m: ChatMessage) => ({ type: m.type, user: m.user, text: m.text });

function suite(kind: string, start: StartServer): void {
  describe(`the server chat on ${kind} with real libinfinity clients`, function () {
    this.timeout(60000);
    const fx = interopFixture();
    const client = (s: ServerUnderTest, user: string) => fx.client(s, user);

    it('carries normal and emote messages with emoji both ways between two clients', async () => {
      const s = await fx.server(start({ securityPolicy: 'no-tls' }));
      const a = await client(s, 'alice');
      const b = await client(s, 'bob');
      await a.call('chat_subscribe', { name: 'alice' });
      await b.call('chat_subscribe', { name: 'bob' });
      await a.call('chat_send', { text: 'hello 😀 <&> e\u0301' });
      const atB = await b.waitForEvent((e) => isChat(e) && e.user === 'alice' && e.type === 'normal');
      expect(isChat(atB) && brief(atB)).to.deep.equal({ type: 'normal', user: 'alice', text: 'hello 😀 <&> e\u0301' });
      await b.call('chat_send', { text: 'waves 👋', emote: true });
      const atA = await a.waitForEvent((e) => isChat(e) && e.user === 'bob' && e.type === 'emote');
      expect(isChat(atA) && brief(atA)).to.deep.equal({ type: 'emote', user: 'bob', text: 'waves 👋' });
    });

    it('gives a late subscriber the backlog with joins, messages and parts, stamped with times', async () => {
      const s = await fx.server(start({ securityPolicy: 'no-tls' }));
      const before = Math.floor(Date.now() / 1000);
      const a = await client(s, 'alice');
      await a.call('chat_subscribe', { name: 'alice' });
      await a.call('chat_send', { text: 'first' });
      await a.call('chat_send', { text: 'nods', emote: true });
      const b = await client(s, 'bob');
      const { backlog: whileThere } = await b.call('chat_subscribe', { name: 'bob' });
      expect(whileThere.map(brief)).to.deep.equal([
        { type: 'userjoin', user: 'alice', text: '' },
        { type: 'normal', user: 'alice', text: 'first' },
        { type: 'emote', user: 'alice', text: 'nods' },
      ]);
      for (const m of whileThere) expect(m.time).to.be.at.least(before - 1);
      await a.stop();
      // bob sees alice leave (its own userpart entry) once the server has noticed.
      await b.waitForEvent((e) => isChat(e) && e.type === 'userpart' && e.user === 'alice');
      const c = await client(s, 'carol');
      const { backlog } = await c.call('chat_subscribe', { name: 'carol' });
      expect(backlog.map(brief)).to.deep.equal([
        { type: 'userjoin', user: 'alice', text: '' },
        { type: 'normal', user: 'alice', text: 'first' },
        { type: 'emote', user: 'alice', text: 'nods' },
        { type: 'userjoin', user: 'bob', text: '' },
        { type: 'userpart', user: 'alice', text: '' },
      ]);
    });
  });
}

suite('infinoted', startInfinoted);
suite('tandemd', startTandemd);
