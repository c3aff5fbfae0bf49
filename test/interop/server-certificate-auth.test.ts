// certificate-auth from the command line: the tandemd bin started with
// --plugins note-text,certificate-auth and --plugin-parameter=certificate-auth:ca-list:FILE logs
// a client presenting a CA-signed certificate into the account accounts.xml lists for its DN, and
// refuses clients without a certificate or with one the CA did not sign; infinoted 0.7.2 given
// the same root and options behaves the same.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { requireRealLibinfinity, startInfinoted, type ServerUnderTest } from './harness/index.js';
import { startTandemd } from './server-harness.js';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';

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
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const t of tmp) rmSync(t, { recursive: true, force: true });
    servers = [];
    tmp = [];
  });

  /** A root whose accounts.xml lists alice by her certificate's DN, as infinoted stores it. */
  function rootWithAlice(): string {
    const root = mkdtempSync(join(tmpdir(), 'tandem-certauth-root-'));
    tmp.push(root);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'accounts.xml'), '<?xml version="1.0"?>\n<inf-acl-account-list><account id="fs:user:alice" name="alice"><certificate>CN=alice</certificate></account></inf-acl-account-list>\n');
    return root;
  }

  async function start(which: 'tandemd' | 'infinoted', acceptUnauthenticated: boolean): Promise<ServerUnderTest> {
    const o = {
      securityPolicy: 'require-tls' as const,
      root: rootWithAlice(),
      plugins: ['note-text', 'certificate-auth'],
      extraArgs: [
        `--plugin-parameter=certificate-auth:ca-list:${join(pki, 'ca.pem')}`,
        ...(acceptUnauthenticated ? ['--plugin-parameter=certificate-auth:accept-unauthenticated-clients:true'] : []),
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
  }

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
