// tandemd's ACL enforcement as the real libinfinity client sees it: a subdirectory whose stored
// default sheet forbids new subdirectories (its .xml.acl written before start, as infinoted
// writes it) refuses mkdir with INF_REQUEST_ERROR 6, and the same root behaves identically on
// the real infinoted.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRealLibinfinity, startDriver, startInfinoted, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { RawXmpp, dir } from './harness/raw-xmpp.js';
import { startTandemd } from './server-harness.js';

describe('tandemd ACLs with the real libinfinity client', function () {
  this.timeout(60000);
  let servers: ServerUnderTest[] = [];
  let drivers: InfDriver[] = [];
  let tmp: string[] = [];
  before(() => requireRealLibinfinity());
  afterEach(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    for (const t of tmp) rmSync(t, { recursive: true, force: true });
    drivers = [];
    servers = [];
    tmp = [];
  });

  /** A root with /locked whose default sheet says can-add-subdirectory="no". */
  function lockedRoot(): string {
    const root = mkdtempSync(join(tmpdir(), 'tandem-acl-interop-'));
    tmp.push(root);
    mkdirSync(join(root, 'locked'));
    writeFileSync(join(root, 'locked.xml.acl'), '<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-add-subdirectory="no"/>\n</inf-acl>\n');
    return root;
  }

  /** A root with /doc whose default sheet says can-join-user="no", and /open without a sheet. */
  function noJoinRoot(): string {
    const root = mkdtempSync(join(tmpdir(), 'tandem-acl-interop-'));
    tmp.push(root);
    const empty = '<?xml version="1.0"?>\n<inf-text-session>\n  <buffer/>\n</inf-text-session>\n';
    writeFileSync(join(root, 'doc.InfText'), empty);
    writeFileSync(join(root, 'open.InfText'), empty);
    writeFileSync(join(root, 'doc.xml.acl'), '<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-join-user="no"/>\n</inf-acl>\n');
    return root;
  }

  for (const which of ['tandemd', 'infinoted'] as const) {
    it(`${which}: joining a document whose default sheet forbids can-join-user fails with INF_REQUEST_ERROR 6, subscribing and other documents work`, async () => {
      const root = noJoinRoot();
      const s = which === 'tandemd'
        ? await startTandemd({ securityPolicy: 'no-tls', root })
        : await startInfinoted({ securityPolicy: 'no-tls', root });
      servers.push(s);
      const d = await startDriver();
      drivers.push(d);
      await d.call('connect', { port: s.port, security: 'no-tls', user: 'alice' });
      await d.call('subscribe', { path: '/doc' });
      const denied = await d.attempt('join', { path: '/doc', name: 'alice' });
      expect(denied.ok).to.equal(false);
      expect(denied.ok ? '' : denied.error).to.match(/^INF_REQUEST_ERROR 6: /);
      await d.call('subscribe', { path: '/open' });
      await d.call('join', { path: '/open', name: 'alice' });
      await d.call('insert', { path: '/open', pos: 0, text: 'joined elsewhere' });
      expect((await d.call('text', { path: '/open' })).text).to.equal('joined elsewhere');
    });
  }

  for (const which of ['tandemd', 'infinoted'] as const) {
    it(`${which}: mkdir under a directory whose default sheet forbids it fails with INF_REQUEST_ERROR 6, elsewhere it works`, async () => {
      const root = lockedRoot();
      const s = which === 'tandemd'
        ? await startTandemd({ securityPolicy: 'no-tls', root })
        : await startInfinoted({ securityPolicy: 'no-tls', root });
      servers.push(s);
      const d = await startDriver();
      drivers.push(d);
      await d.call('connect', { port: s.port, security: 'no-tls', user: 'alice' });
      const denied = await d.attempt('mkdir', { path: '/locked/sub' });
      expect(denied.ok).to.equal(false);
      expect(denied.error).to.match(/^INF_REQUEST_ERROR 6: /);
      await d.call('mkdir', { path: '/open' });
      await d.call('create', { path: '/locked/doc', text: 'documents are still allowed' });
    });
  }

  it('answers lookup-acl-accounts with the same bytes: queries in order, stored ids last, repeats kept', async () => {
    // infd_directory_handle_lookup_acl_accounts answers a name at once and collects stored ids for
    // one lookup at the end; it neither removes repeats nor reads text after a first child element.
    const queries = [
      '<id>fs:user:a</id><name>b</name><id>fs:user:c</id><name>a</name>',
      '<name>b</name><name>b</name><id>fs:user:b</id><id>fs:user:b</id>',
      '<id>default</id><id></id><id/><name/><name></name><name>zz</name><id>nope</id>',
      '<id><x/>fs:user:a</id><name>c<x/></name><other>a</other><name> a</name>',
      '<name>x&amp;y</name><id>fs:user:x&amp;y</id>',
      '<name>a<!-- c --></name><id><!-- c -->fs:user:b</id>',
    ];
    const answers: Record<string, string[]> = {};
    for (const which of ['infinoted', 'tandemd'] as const) {
      const root = mkdtempSync(join(tmpdir(), 'tandem-acl-lookup-'));
      tmp.push(root);
      writeFileSync(join(root, 'accounts.xml'), '<?xml version="1.0"?>\n<inf-acl-account-list>'
        + ['a', 'b', 'c', 'x&amp;y'].map((n) => `<account id="fs:user:${n}" name="${n}"/>`).join('') + '</inf-acl-account-list>\n');
      writeFileSync(join(root, 'global-acl.xml'), '<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-query-account-list="yes"/>\n</inf-acl>\n');
      const s = which === 'tandemd' ? await startTandemd({ securityPolicy: 'no-tls', root }) : await startInfinoted({ securityPolicy: 'no-tls', root });
      servers.push(s);
      const c = new RawXmpp(s.port);
      await c.login('x');
      answers[which] = [];
      for (const [i, q] of queries.entries()) {
        c.send(dir(`<lookup-acl-accounts seq="${i}">${q}</lookup-acl-accounts>`));
        answers[which]!.push(await c.until('</group>'));
      }
      c.close();
    }
    expect(answers.tandemd).to.deep.equal(answers.infinoted);
    expect(answers.infinoted![0]).to.contain('<account id="fs:user:b" name="b"/><account id="fs:user:a" name="a"/><account id="fs:user:a" name="a"/><account id="fs:user:c" name="c"/>');
  });
});
