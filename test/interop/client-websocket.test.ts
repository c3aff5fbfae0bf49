// Browsers join the same sessions over WebSocket: a @tandem/client over tandemd's --ws-port edits
// a document together with the real libinfinity client over TCP (infdriver.py), both ways.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { connect, type TandemClient } from '@tandem/client';
import { freePort, requireRealLibinfinity, startDriver, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { TANDEMD, startTandemd } from './server-harness.js';

describe('tandemd over WebSocket with a real libinfinity client over TCP', () => {
  let servers: ServerUnderTest[] = [];
  let drivers: InfDriver[] = [];
  let clients: TandemClient[] = [];

  before(function () {
    requireRealLibinfinity();
    if (!existsSync(TANDEMD)) this.skip();
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    clients = [];
    drivers = [];
    servers = [];
  });

  for (const [policy, scheme] of [['no-tls', 'ws'], ['require-tls', 'wss']] as const) {
    it(`shares one document between a ${scheme}:// client and libinfinity over TCP (${policy})`, async () => {
      const wsPort = await freePort();
      const s = await startTandemd({ securityPolicy: policy, extraArgs: [`--ws-port=${wsPort}`] });
      servers.push(s);
      // wss:// with tandemd's self-signed test certificate: no CA vouches for it.
      const web = await connect({ url: `${scheme}://127.0.0.1:${wsPort}`, user: 'web', insecure: true, timeoutMs: 20000 });
      clients.push(web);
      expect(web.security.tls).to.equal(scheme === 'wss');
      const doc = await web.open('/shared', { user: 'web', create: true });
      await doc.insert(0, 'from the browser 😀 e\u0301');

      const d = await startDriver();
      drivers.push(d);
      await d.call('connect', { port: s.port, security: policy, user: 'lib' });
      const state = await d.call('subscribe', { path: '/shared' });
      expect(state.text).to.equal('from the browser 😀 e\u0301');
      await d.call('join', { path: '/shared', name: 'lib' });
      // Code point 17 is right after the emoji; libinfinity counts characters like the wire.
      await d.call('insert', { path: '/shared', pos: 18, text: '+libinfinity' });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the WebSocket client has "${doc.text}"`)), 20000);
        const check = (): void => {
          if (doc.text !== 'from the browser 😀+libinfinity e\u0301') return;
          clearTimeout(timer);
          doc.off('change', check);
          resolve();
        };
        doc.on('change', check);
        check();
      });
      await doc.insert(0, '>');
      const final = await d.call('wait_text', { path: '/shared', text: '>from the browser 😀+libinfinity e\u0301' });
      // libinfinity's own buffer keeps who wrote what: the browser's text around libinfinity's.
      const segments = final.segments as [number, string][];
      expect(segments.map(([, text]) => text)).to.deep.equal(['>from the browser 😀', '+libinfinity', ' e\u0301']);
      const [web1, lib, web2] = segments.map(([author]) => author);
      expect(web1).to.equal(web2);
      expect(lib).to.not.equal(web1);
    });
  }
});
