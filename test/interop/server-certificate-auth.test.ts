// certificate-auth from the command line: the tandemd bin started with
// --plugins note-text,certificate-auth and --plugin-parameter=certificate-auth:ca-list:FILE logs
// a client presenting a CA-signed certificate into the account accounts.xml lists for its DN, and
// refuses clients without a certificate or with one the CA did not sign; infinoted 0.7.2 given
// the same root and options behaves the same. Both with a raw node:tls client and with the real
// libinfinity client: its Python bindings cannot fill InfCertificateCredentials (the GnuTLS
// credentials are not introspectable), so infdriver.py makes them with ctypes
// (gnutls_certificate_set_x509_key_file) and sets them as the connection's "credentials", as Gobby
// does with its certificate preference. With ca-key and super-user both servers write a
// super-user key and certificate chain at start; it logs in as "Super User" with the rights
// shown below.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { requireRealLibinfinity, startDriver, startInfinoted, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { RawXmpp, dir } from './harness/raw-xmpp.js';
import { startTandemd } from './server-harness.js';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';
/** The root's default sheet of a fresh root. */
const DEFAULT_SHEET =
  '<sheet id="default" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="no" can-create-account="no" can-override-account="no" can-remove-account="no" can-query-acl="no" can-set-acl="no"/>';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/**
 * A raw XMPP login over STARTTLS presenting `cred` (or no certificate). Resolves with the
 * welcome's group, or with `refused` when the server ends the connection before it.
 */
function login(port: number, cred?: { key: string; cert: string }): Promise<{ welcome?: string; refused?: string }> {
  return new Promise((resolve) => {
    let buffer = '';
    let stage: 'features' | 'proceed' | 'tls-features' | 'challenge' | 'success' | 'welcome' = 'features';
    let done = false;
    const finish = (r: { welcome?: string; refused?: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ refused: `timeout at ${stage}: ${buffer}` }), 20000);
    const sock = netConnect({ port, host: '127.0.0.1' });
    let write = (s: string): void => void sock.write(s);
    sock.on('error', (e) => finish({ refused: e.message }));
    sock.on('close', () => finish({ refused: `closed at ${stage}` }));
    const step = (): void => {
      const wait = (s: string): boolean => {
        const i = buffer.indexOf(s);
        if (i < 0) return false;
        buffer = buffer.slice(i + s.length);
        return true;
      };
      for (;;) {
        if (stage === 'features' && wait('</stream:features>')) {
          stage = 'proceed';
          write('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
        } else if (stage === 'proceed' && wait('<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>')) {
          sock.removeAllListeners('data');
          const secure = tlsConnect({ socket: sock, rejectUnauthorized: false, ...(cred ?? {}) });
          secure.on('error', (e) => finish({ refused: e.message }));
          secure.on('close', () => finish({ refused: `closed at ${stage}` }));
          secure.on('data', (b: Buffer) => {
            buffer += b.toString('utf8');
            step();
          });
          write = (s) => void secure.write(s);
          secure.once('secureConnect', () => {
            stage = 'tls-features';
            write(HEADER);
          });
          return;
        } else if (stage === 'tls-features' && wait('</stream:features>')) {
          stage = 'challenge';
          write('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
        } else if (stage === 'challenge' && wait('<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>')) {
          stage = 'success';
          write('<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">YWxpY2U=</response>');
        } else if (stage === 'success' && wait('<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>')) {
          stage = 'welcome';
          write(HEADER);
        } else if (stage === 'welcome' && buffer.includes('</welcome></group>')) {
          finish({ welcome: buffer.slice(0, buffer.indexOf('</welcome></group>')) });
          return;
        } else {
          return;
        }
      }
    };
    sock.on('data', (b: Buffer) => {
      buffer += b.toString('utf8');
      step();
    });
    write(HEADER);
  });
}

describe('certificate-auth on the command line (tandemd bin and infinoted)', function () {
  this.timeout(90000);
  let pki: string;
  let servers: ServerUnderTest[] = [];
  let tmp: string[] = [];
  const read = (f: string): string => readFileSync(join(pki, f), 'utf8');

  before(() => {
    requireRealLibinfinity();
    pki = mkdtempSync(join(tmpdir(), 'tandem-certauth-pki-'));
    // A CA; alice's certificate signed by it; mallory's self-signed one with the same kind of DN.
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Tandem Interop CA'], pki);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'alice-key.pem', '-out', 'alice.csr', '-subj', '/CN=alice'], pki);
    openssl(['x509', '-req', '-in', 'alice.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'alice.pem', '-days', '2'], pki);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'mallory-key.pem', '-out', 'mallory.pem', '-days', '2', '-subj', '/CN=alice'], pki);
  });
  after(() => rmSync(pki, { recursive: true, force: true }));
  let drivers: InfDriver[] = [];
  let raws: RawXmpp[] = [];
  afterEach(async () => {
    for (const r of raws) r.close();
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    for (const t of tmp) rmSync(t, { recursive: true, force: true });
    servers = [];
    tmp = [];
    drivers = [];
    raws = [];
  });

  /** A real libinfinity client (infdriver.py), stopped after the test. */
  async function driver(): Promise<InfDriver> {
    const d = await startDriver();
    drivers.push(d);
    return d;
  }

  /** A raw client logged in over STARTTLS with `cred`, closed after the test. */
  async function rawLogin(s: ServerUnderTest, name: string, cred: { key: string; cert: string }): Promise<{ c: RawXmpp; seqId: string }> {
    const c = new RawXmpp(s.port);
    raws.push(c);
    return { c, seqId: await c.login(name, cred) };
  }

  /** A root whose accounts.xml lists alice by her certificate's DN, as infinoted stores it. */
  function rootWithAlice(): string {
    const root = mkdtempSync(join(tmpdir(), 'tandem-certauth-root-'));
    tmp.push(root);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'accounts.xml'), '<?xml version="1.0"?>\n<inf-acl-account-list><account id="fs:user:alice" name="alice"><certificate>CN=alice</certificate></account></inf-acl-account-list>\n');
    return root;
  }

  async function start(which: 'tandemd' | 'infinoted', acceptUnauthenticated: boolean, superUser?: string): Promise<ServerUnderTest> {
    const o = {
      securityPolicy: 'require-tls' as const,
      root: rootWithAlice(),
      plugins: ['note-text', 'certificate-auth'],
      extraArgs: [
        `--plugin-parameter=certificate-auth:ca-list:${join(pki, 'ca.pem')}`,
        ...(acceptUnauthenticated ? ['--plugin-parameter=certificate-auth:accept-unauthenticated-clients:true'] : []),
        ...(superUser !== undefined ? [
          `--plugin-parameter=certificate-auth:ca-key:${join(pki, 'ca-key.pem')}`,
          `--plugin-parameter=certificate-auth:super-user:${superUser}`,
        ] : []),
      ],
    };
    const s = which === 'tandemd' ? await startTandemd(o) : await startInfinoted(o);
    servers.push(s);
    return s;
  }

  for (const which of ['tandemd', 'infinoted'] as const) {
    it(`${which}: a CA-signed client certificate listed in accounts.xml logs into that account; no certificate or a self-signed one is refused`, async () => {
      const s = await start(which, false);
      const alice = await login(s.port, { key: read('alice-key.pem'), cert: read('alice.pem') });
      expect(alice.refused, alice.refused).to.equal(undefined);
      expect(alice.welcome).to.contain('<account id="fs:user:alice" name="alice"/>');
      const none = await login(s.port);
      expect(none.welcome).to.equal(undefined);
      expect(none.refused).to.be.a('string');
      const mallory = await login(s.port, { key: read('mallory-key.pem'), cert: read('mallory.pem') });
      expect(mallory.welcome).to.equal(undefined);
    });

    it(`${which}: with accept-unauthenticated-clients a client without a certificate gets the default account`, async () => {
      const s = await start(which, true);
      const none = await login(s.port);
      expect(none.refused, none.refused).to.equal(undefined);
      expect(none.welcome).to.contain('<welcome');
      expect(none.welcome).to.not.contain('<account');
      const alice = await login(s.port, { key: read('alice-key.pem'), cert: read('alice.pem') });
      expect(alice.welcome).to.contain('<account id="fs:user:alice" name="alice"/>');
    });

    it(`${which}: the real libinfinity client presents a CA-signed certificate and logs into its account; without one, or with a self-signed one, it is refused`, async () => {
      const s = await start(which, false);
      const alice = await driver();
      expect(await alice.call('connect', { port: s.port, security: 'require-tls', user: 'alice', cert: join(pki, 'alice.pem'), key: join(pki, 'alice-key.pem') }))
        .to.deep.equal({ tls: true, account: { id: 'fs:user:alice', name: 'alice' } });
      // The account works: alice creates and edits a document.
      await alice.call('create', { path: '/by-alice', text: 'signed' });
      expect((await alice.call('subscribe', { path: '/by-alice' })).text).to.equal('signed');
      const none = await driver();
      const refused = await none.attempt('connect', { port: s.port, security: 'require-tls', user: 'nobody' });
      expect(refused.ok, JSON.stringify(refused)).to.equal(false);
      const mallory = await driver();
      const forged = await mallory.attempt('connect', { port: s.port, security: 'require-tls', user: 'mallory', cert: join(pki, 'mallory.pem'), key: join(pki, 'mallory-key.pem') });
      expect(forged.ok, JSON.stringify(forged)).to.equal(false);
    });

    it(`${which}: the super-user certificate written at start is signed by the CA, valid for about 12 hours, and logs in as the super user with its rights`, async () => {
      const dirForSu = mkdtempSync(join(tmpdir(), 'tandem-certauth-su-'));
      tmp.push(dirForSu);
      const suFile = join(dirForSu, 'super-user.pem');
      const s = await start(which, false, suFile);
      // The key and the chain (the super user's certificate, then the CA's), readable by the owner only.
      expect(statSync(suFile).mode & 0o777).to.equal(0o600);
      const pem = readFileSync(suFile, 'utf8');
      expect(pem).to.match(/^-----BEGIN (RSA )?PRIVATE KEY-----\n/);
      const certs = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
      expect(certs).to.have.length(2);
      const ca = new X509Certificate(read('ca.pem'));
      const su = new X509Certificate(certs[0]!);
      expect(su.subject).to.equal('CN=Super User');
      expect(su.checkIssued(ca)).to.equal(true);
      expect(su.verify(ca.publicKey)).to.equal(true);
      expect(new X509Certificate(certs[1]!).fingerprint256).to.equal(ca.fingerprint256);
      const from = Date.parse(su.validFrom);
      const to = Date.parse(su.validTo);
      expect(from).to.be.at.most(Date.now() + 60_000);
      expect(to).to.be.above(Date.now() + 11 * 3600_000);
      expect(to - from).to.be.at.most(15 * 3600_000);

      // The real client logs in with it.
      const d = await driver();
      expect(await d.call('connect', { port: s.port, security: 'require-tls', user: 'root', cert: suFile, key: suFile }))
        .to.deep.equal({ tls: true, account: { id: '_transient:Super User', name: 'Super User' } });

      // Its sheet on the root: everything the server supports. infinoted 0.7.2 computes it while the
      // plugin starts, before the directory reports account creation and removal as supported,
      // so its super user may not create or remove accounts; tandemd grants both.
      const { c, seqId } = await rawLogin(s, 'root', { key: pem, cert: pem });
      const accountRights = which === 'infinoted' ? 'can-create-account="no" can-override-account="yes" can-remove-account="no"' : 'can-create-account="yes" can-override-account="yes" can-remove-account="yes"';
      const suSheet = `<sheet id="_transient:Super User" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="yes" ${accountRights} can-query-acl="yes" can-set-acl="yes"/>`;
      expect(c.welcome).to.contain(`<account id="_transient:Super User" name="Super User"/><acl>${DEFAULT_SHEET}${suSheet}</acl></welcome>`);
      // What the default account may not do, the super user does: list accounts, read and set ACLs.
      c.send(dir('<query-acl-account-list seq="1"/>'));
      expect(await c.until(`<acl-account-list-end seq="${seqId}/1"/></group>`)).to.equal(
        `<group name="InfDirectory"><acl-account-list-begin notifications-enabled="1" total="1" seq="${seqId}/1"/></group>` +
          `<group name="InfDirectory"><add-acl-account id="fs:user:alice" name="alice" seq="${seqId}/1"/></group>` +
          `<group name="InfDirectory"><acl-account-list-end seq="${seqId}/1"/></group>`,
      );
      c.send(dir('<query-acl seq="2" id="0"/>'));
      expect(await c.until('</group>')).to.equal(`<group name="InfDirectory"><set-acl id="0" seq="${seqId}/2"><acl>${DEFAULT_SHEET}${suSheet}</acl></set-acl></group>`);
      c.send(dir('<set-acl seq="3" id="0"><acl><sheet id="fs:user:alice" can-set-acl="yes"/></acl></set-acl>'));
      expect(await c.until('</group>')).to.equal(`<group name="InfDirectory"><set-acl id="0" seq="${seqId}/3"><acl><sheet id="fs:user:alice" can-set-acl="yes"/></acl></set-acl></group>`);
      if (which === 'tandemd') {
        // ... and, on tandemd, creates an account from a certificate request and removes it again.
        openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'carol-key.pem', '-out', 'carol.csr', '-subj', '/CN=carol'], pki);
        c.send(dir(`<create-acl-account seq="4"><crq>${read('carol.csr')}</crq></create-acl-account>`));
        const created = await c.until('</create-acl-account></group>');
        const id = /<create-acl-account seq="\d+\/4" id="([^"]+)" name="carol"><certificate>-----BEGIN CERTIFICATE-----/.exec(created)?.[1];
        expect(id, created).to.be.a('string');
        c.send(dir(`<remove-acl-account seq="5" id="${id}"/>`));
        expect(await c.until(`seq="${seqId}/5"/></group>`)).to.contain(`<remove-acl-account id="${id}" seq="${seqId}/5"/></group>`);
      }
      // alice, an ordinary account, is refused the same requests.
      const { c: a, seqId: aliceSeq } = await rawLogin(s, 'alice', { key: read('alice-key.pem'), cert: read('alice.pem') });
      a.send(dir('<query-acl-account-list seq="1"/>'));
      expect(await a.until('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="${aliceSeq}/1">Permission denied</request-failed></group>`);
      a.send(dir('<query-acl seq="2" id="0"/>'));
      expect(await a.until('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="${aliceSeq}/2">Permission denied</request-failed></group>`);
    });
  }

  // infinoted 0.7.2 hangs on remove-acl-account (protocol.md 3.10), so this is tandemd's alone.
  it('tandemd: removing the account of live connections moves them to the default account with change-acl-account (raw bytes, and the real client follows)', async () => {
    const dirForSu = mkdtempSync(join(tmpdir(), 'tandem-certauth-su-'));
    tmp.push(dirForSu);
    const suFile = join(dirForSu, 'super-user.pem');
    const s = await start('tandemd', false, suFile);
    const alice = { key: read('alice-key.pem'), cert: read('alice.pem') };
    const real = await driver();
    expect((await real.call('connect', { port: s.port, security: 'require-tls', user: 'alice', cert: join(pki, 'alice.pem'), key: join(pki, 'alice-key.pem') })).account)
      .to.deep.equal({ id: 'fs:user:alice', name: 'alice' });
    const { c: raw } = await rawLogin(s, 'alice', alice);
    expect(raw.welcome).to.contain('<account id="fs:user:alice" name="alice"/>');
    const su = readFileSync(suFile, 'utf8');
    const { c: root, seqId } = await rawLogin(s, 'root', { key: su, cert: su });
    root.send(dir('<remove-acl-account seq="1" id="fs:user:alice"/>'));
    expect(await root.until('</group>')).to.equal(`<group name="InfDirectory"><remove-acl-account id="fs:user:alice" seq="${seqId}/1"/></group>`);
    // The form infinoted sends when it demotes a connection (test/interop/protocol-rare-live.test.ts).
    expect(await raw.until('</group>')).to.equal('<group name="InfDirectory"><change-acl-account id="default"/></group>');
    let account: unknown;
    for (let i = 0; i < 50; i++) {
      account = (await real.call('account', {})).account;
      if ((account as { id?: string } | null)?.id === 'default') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(account).to.deep.equal({ id: 'default', name: null });
    // The connections stay open and work as the default account.
    await real.call('create', { path: '/after', text: 'still here' });
    expect((await real.call('explore', { path: '/' })).children).to.deep.include({ name: 'after', type: 'InfText' });
    // The certificate no longer names an account: a new login gets the default account.
    const { c: again } = await rawLogin(s, 'alice', alice);
    expect(again.welcome).to.not.contain('<account');
  });

  it('tandemd refuses to start with certificate-auth but without ca-list, naming the parameter', async () => {
    let error = '';
    try {
      servers.push(await startTandemd({ securityPolicy: 'require-tls', root: rootWithAlice(), plugins: ['note-text', 'certificate-auth'] }));
    } catch (err) {
      error = (err as Error).message;
    }
    expect(error).to.contain('Plugin "certificate-auth" needs the parameter "ca-list"');
  });
});
