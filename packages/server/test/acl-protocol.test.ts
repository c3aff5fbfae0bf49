// ACL and account requests over an in-memory connection, and certificate login over TLS.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { loadCertificateAuth } from '../src/accounts/certificate-auth.js';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { listenTcp, type TcpListener } from '../src/transport/tcp.js';
import { HEADER, type WireClient, dir, login, pair, wireClient } from './wire.js';

const ALL_YES = 'can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="yes" can-create-account="yes" can-override-account="yes" can-remove-account="yes" can-query-acl="yes" can-set-acl="yes"';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

const client = wireClient;
type Client = WireClient;

describe('ACLs and accounts (protocol)', function () {
  this.timeout(60_000);
  let root: string;
  let pki: string;
  let server: TandemServer;

  before(async () => {
    // A CA, and a certificate request for "carol" made the way Gobby's users would (openssl req -new).
    pki = await mkdtemp(join(tmpdir(), 'tandem-pki-'));
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Tandem Test CA'], pki);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'carol-key.pem', '-out', 'carol.csr', '-subj', '/CN=carol'], pki);
  });
  after(async () => {
    await rm(pki, { recursive: true, force: true });
  });

  async function start(o: { ca?: boolean; acl?: string; accounts?: string } = {}): Promise<void> {
    if (o.acl !== undefined) await writeFile(join(root, 'global-acl.xml'), o.acl);
    if (o.accounts !== undefined) await writeFile(join(root, 'accounts.xml'), o.accounts);
    const certificateAuth = o.ca ? await loadCertificateAuth({ caList: join(pki, 'ca.pem'), caKey: join(pki, 'ca-key.pem') }) : undefined;
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', ...(certificateAuth ? { certificateAuth } : {}) });
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-aclp-'));
  });
  afterEach(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  const allowAll = `<?xml version="1.0"?>\n<inf-acl><sheet account="default" ${ALL_YES.replace(/ /g, ' ')}/></inf-acl>\n`;
  const daveErin = '<?xml version="1.0"?>\n<inf-acl-account-list><account id="fs:user:dave" name="dave"><certificate>CN=dave</certificate></account><account id="fs:user:erin" name="erin"/></inf-acl-account-list>\n';

  it('answers query-acl and set-acl as in capture 08a, persists the sheet and enforces it with "Permission denied"', async () => {
    await start({ acl: allowAll, accounts: daveErin });
    const c = pair(server);
    await login(c);
    c.send(dir('<explore-node seq="0" id="0"/>'));
    await c.next('<explore-end seq="1/0"/></group>');
    c.send(dir('<add-node seq="1" parent="0" type="InfSubdirectory" name="acldir"/>'));
    await c.next('seq="1/1"/></group>');
    c.send(dir('<query-acl seq="2" id="1"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><set-acl id="1" seq="1/2"/></group>');
    c.send(dir('<query-acl seq="3" id="1"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="31" domain="INF_DIRECTORY_ERROR" seq="1/3">The ACL for this node has already been queried</request-failed></group>');
    c.send(dir('<set-acl seq="4" id="1"><acl><sheet id="fs:user:dave" can-join-user="no" can-explore-node="yes"/><sheet id="default" can-add-document="maybe"/></acl></set-acl>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="4" domain="INF_REQUEST_ERROR" seq="1/4">ACL field must be either "yes" or "no"</request-failed></group>');
    c.send(dir('<set-acl seq="5" id="1"><acl><sheet id="ghost" can-join-user="no"/></acl></set-acl>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="30" domain="INF_DIRECTORY_ERROR" seq="1/5">There is no such account with ID "ghost"</request-failed></group>');
    c.send(dir('<set-acl seq="6" id="0"><acl><sheet id="default" can-query-acl="no"/></acl></set-acl>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="32" domain="INF_DIRECTORY_ERROR" seq="1/6">The ACL for this node has not been queried yet</request-failed></group>');
    c.send(dir('<set-acl seq="7" id="1"><acl><sheet id="default" can-add-subdirectory="no"/><sheet id="fs:user:dave" can-join-user="no" can-explore-node="yes"/></acl></set-acl>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><set-acl id="1" seq="1/7"><acl><sheet id="default" can-add-subdirectory="no"/><sheet id="fs:user:dave" can-explore-node="yes" can-join-user="no"/></acl></set-acl></group>');
    expect(await readFile(join(root, 'acldir.xml.acl'), 'utf8')).to.equal('<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-add-subdirectory="no"/>\n  <sheet account="fs:user:dave" can-explore-node="yes" can-join-user="no"/>\n</inf-acl>\n');
    c.send(dir('<add-node seq="8" parent="1" type="InfSubdirectory" name="sub"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="1/8">Permission denied</request-failed></group>');
    // Documents are still allowed there: only the one setting was revoked.
    c.send(dir('<add-node seq="9" parent="1" type="InfText" name="doc"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><add-node id="2" parent="1" name="doc" type="InfText" seq="1/9"/></group>');

    // After a restart, a new connection sees the default sheet of the node when exploring.
    await server.close();
    await start();
    const d = pair(server);
    await login(d);
    d.send(dir('<explore-node seq="0" id="0"/>'));
    expect(await d.next('<explore-end seq="1/0"/></group>')).to.contain('<add-node id="1" parent="0" name="acldir" type="InfSubdirectory" seq="1/0"><acl><sheet id="default" can-add-subdirectory="no"/></acl></add-node>');
  });

  it('refuses user-join without can-join-user with "Permission denied" inside the session group, after validating the join, for text and chat documents', async () => {
    await writeFile(join(root, 'global-acl.xml'), allowAll);
    server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', noteTypes: ['InfText', 'InfChat'] });
    const c = pair(server);
    await login(c);
    const session = (id: number, body: string) => `<group publisher="you" name="InfSession_${id}">${body}</group>`;
    c.send(dir('<explore-node seq="0" id="0"/>'));
    await c.next('<explore-end seq="1/0"/></group>');
    c.send(dir('<add-node seq="1" parent="0" type="InfText" name="doc"/>'));
    await c.next('seq="1/1"/></group>');
    c.send(dir('<add-node seq="2" parent="0" type="InfChat" name="room"/>'));
    await c.next('seq="1/2"/></group>');
    for (const [i, id] of [1, 2].entries()) {
      c.send(dir(`<query-acl seq="${3 + 2 * i}" id="${id}"/>`));
      await c.next('</group>');
      c.send(dir(`<set-acl seq="${4 + 2 * i}" id="${id}"><acl><sheet id="default" can-join-user="no"/></acl></set-acl>`));
      await c.next('</group>');
    }
    for (const id of [1, 2]) {
      c.send(dir(`<subscribe-session seq="${6 + id}" id="${id}"/>`));
      await c.next('</group>');
      c.send(dir(`<subscribe-ack id="${id}"/>`));
      await c.next('<sync-end/></group>');
      c.send(session(id, '<sync-ack/>'));
    }
    // A malformed join is still answered by its validation error first (as libinfinity does).
    c.send(session(1, '<user-join seq="9" name="alice" status="active" time=""/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><request-failed code="3" domain="INF_REQUEST_ERROR" seq="1/9">"caret" attribute in user message is missing</request-failed></group>');
    c.send(session(1, '<user-join seq="10" name="alice" status="active" time="" caret="0" hue="0.25"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="1/10">Permission denied</request-failed></group>');
    c.send(session(2, '<user-join seq="11" name="alice" status="active"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_2"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="1/11">Permission denied</request-failed></group>');
    // Granted again, the same join succeeds.
    c.send(dir('<set-acl seq="12" id="1"><acl><sheet id="default" can-join-user="yes"/></acl></set-acl>'));
    await c.next('seq="1/12">');
    await c.next('</group>');
    c.send(session(1, '<user-join seq="13" name="alice" status="active" time="" caret="0" hue="0.25"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfSession_1"><user-join id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="1/13"/></group>');
    expect(c.pending).to.equal('');
  });

  it('tells other explorers about a changed sheet and drops their exploration when explore is revoked', async () => {
    await start({ acl: allowAll });
    const a = pair(server);
    await login(a);
    const b = pair(server);
    await login(b);
    a.send(dir('<add-node seq="0" parent="0" type="InfSubdirectory" name="d"/>'));
    await a.next('seq="1/0"/></group>');
    for (const x of [a, b]) {
      x.send(dir('<explore-node seq="1" id="0"/>'));
      await x.next('<explore-end');
      await x.next('</group>');
      x.send(dir('<explore-node seq="2" id="1"/>'));
      await x.next('<explore-end');
      await x.next('</group>');
    }
    a.send(dir('<query-acl seq="3" id="1"/>'));
    await a.next('seq="1/3"/></group>');
    a.send(dir('<set-acl seq="4" id="1"><acl><sheet id="default" can-explore-node="no"/></acl></set-acl>'));
    await a.next('seq="1/4">');
    expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><set-acl id="1"><acl><sheet id="default" can-explore-node="no"/></acl></set-acl></group>');
    // b no longer explores d, so a node added there is not announced to it, and exploring is denied.
    a.send(dir('<add-node seq="5" parent="1" type="InfText" name="x"/>'));
    await a.next('seq="1/5"/></group>');
    b.send(dir('<explore-node seq="6" id="1"/>'));
    expect(await b.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="2/6">Permission denied</request-failed></group>');
    expect(b.pending).to.equal('');
  });

  it('denies account and ACL requests under the default root sheet', async () => {
    await start();
    const c = pair(server);
    await login(c);
    for (const [i, req] of ['<query-acl-account-list seq="0"/>', '<query-acl seq="1" id="0"/>', '<remove-acl-account seq="2" id="fs:user:x"/>', '<lookup-acl-accounts seq="3"><id>a</id></lookup-acl-accounts>'].entries()) {
      c.send(dir(req));
      expect(await c.next('</group>')).to.equal(`<group name="InfDirectory"><request-failed code="6" domain="INF_REQUEST_ERROR" seq="1/${i}">Permission denied</request-failed></group>`);
    }
    c.send(dir(`<create-acl-account seq="9"><crq>${await readFile(join(pki, 'carol.csr'), 'utf8')}</crq></create-acl-account>`));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="21" domain="INF_DIRECTORY_ERROR" seq="1/9">Server does not support issuing certificates</request-failed></group>');
  });

  it('lists and looks up accounts like capture 08a', async () => {
    await start({ acl: allowAll, accounts: daveErin });
    const c = pair(server);
    await login(c);
    c.send(dir('<query-acl-account-list seq="0"/>'));
    expect(await c.next('<acl-account-list-end seq="1/0"/></group>')).to.equal('<group name="InfDirectory"><acl-account-list-begin notifications-enabled="1" total="2" seq="1/0"/></group><group name="InfDirectory"><add-acl-account id="fs:user:dave" name="dave" seq="1/0"/></group><group name="InfDirectory"><add-acl-account id="fs:user:erin" name="erin" seq="1/0"/></group><group name="InfDirectory"><acl-account-list-end seq="1/0"/></group>');
    c.send(dir('<lookup-acl-accounts seq="2"><id>fs:user:dave</id><id>default</id><id>nope</id><name>erin</name><name>zed</name></lookup-acl-accounts>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><lookup-acl-accounts seq="1/2"><account id="fs:user:erin" name="erin"/><account id="fs:user:dave" name="dave"/></lookup-acl-accounts></group>');
  });

  it('creates an account from a CSR (signed by the CA, persisted, announced, no spurious failure) and removes it without hanging', async () => {
    await start({ ca: true, acl: allowAll });
    const c = pair(server);
    const welcome = await login(c);
    expect(welcome).to.contain('can-create-account="yes"');
    const watcher = pair(server);
    await login(watcher);
    const csr = await readFile(join(pki, 'carol.csr'), 'utf8');
    expect(csr).to.match(/-----BEGIN CERTIFICATE REQUEST-----/);
    c.send(dir(`<create-acl-account seq="10"><crq>${csr}</crq></create-acl-account>`));
    const reply = await c.next('</create-acl-account></group>');
    const m = /<create-acl-account seq="1\/10" id="(fs:user:carol:[0-9a-f]+)" name="carol"><certificate>([\s\S]*)<\/certificate>/.exec(reply);
    expect(m, reply).to.not.equal(null);
    const id = m![1]!;
    await writeFile(join(pki, 'carol-chain.pem'), m![2]!);
    // The issued certificate verifies against the CA and is for carol's key, valid ~365 days.
    const verify = execFileSync('openssl', ['verify', '-CAfile', 'ca.pem', 'carol-chain.pem'], { cwd: pki }).toString();
    expect(verify).to.contain('OK');
    const days = execFileSync('openssl', ['x509', '-in', 'carol-chain.pem', '-noout', '-enddate', '-subject'], { cwd: pki }).toString();
    expect(days).to.match(/subject=\s*CN\s*=\s*carol/);
    expect(await watcher.next('</group>')).to.equal(`<group name="InfDirectory"><add-acl-account id="${id}" name="carol"/></group>`);
    expect(await readFile(join(root, 'accounts.xml'), 'utf8')).to.contain(`<account id="${id}" name="carol"`);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.pending).to.equal('');

    c.send(dir(`<remove-acl-account seq="11" id="${id}"/>`));
    expect(await c.next('</group>')).to.equal(`<group name="InfDirectory"><remove-acl-account id="${id}" seq="1/11"/></group>`);
    expect(await watcher.next('</group>')).to.equal(`<group name="InfDirectory"><remove-acl-account id="${id}"/></group>`);
    expect(await readFile(join(root, 'accounts.xml'), 'utf8')).to.not.contain(id);
    c.send(dir('<remove-acl-account seq="12" id="default"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="30" domain="INF_DIRECTORY_ERROR" seq="1/12">The default account cannot be removed</request-failed></group>');
    c.send(dir('<remove-acl-account seq="13" id="nonexistent"/>'));
    expect(await c.next('</group>')).to.equal('<group name="InfDirectory"><request-failed code="30" domain="INF_DIRECTORY_ERROR" seq="1/13">There is no such account with ID "nonexistent"</request-failed></group>');
  });

  describe('certificate login over TLS', () => {
    let listener: TcpListener | undefined;
    afterEach(async () => {
      await listener?.close();
      listener = undefined;
    });

    async function tlsLogin(port: number, cred?: { key: string; cert: string }): Promise<string> {
      const sock = netConnect({ port, host: '127.0.0.1' });
      const plainC = client((s) => sock.write(s));
      sock.on('data', plainC.feed);
      plainC.send(HEADER);
      await plainC.next('</stream:features>');
      plainC.send('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
      await plainC.next('<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
      sock.removeAllListeners('data');
      const secure = tlsConnect({ socket: sock, rejectUnauthorized: false, ...(cred ?? {}) });
      const c = client((s) => secure.write(s));
      secure.on('data', c.feed);
      secure.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
      try {
        return await login(c);
      } finally {
        secure.end();
        secure.destroy();
      }
    }

    it('logs a client whose CA-signed certificate is listed for an account into it (<account> in the welcome)', async () => {
      // carol's certificate, signed by the CA; accounts.xml lists it by DN as infinoted stores it.
      openssl(['x509', '-req', '-in', 'carol.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'carol.pem', '-days', '2'], pki);
      await writeFile(join(root, 'accounts.xml'), '<?xml version="1.0"?>\n<inf-acl-account-list><account id="fs:user:carol:1" name="carol"><certificate>CN=carol</certificate></account></inf-acl-account-list>\n');
      const certificateAuth = await loadCertificateAuth({ caList: join(pki, 'ca.pem'), acceptUnauthenticatedClients: true });
      server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'require-tls', hostName: 'vm', certificateAuth, log: (l) => process.env.TANDEM_TEST_LOG && console.log(l) });
      openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv-key.pem', '-out', 'srv.pem', '-days', '2', '-subj', '/CN=localhost'], pki);
      listener = await listenTcp(server, {
        port: 0, host: '127.0.0.1',
        tls: { key: await readFile(join(pki, 'srv-key.pem'), 'utf8'), cert: await readFile(join(pki, 'srv.pem'), 'utf8'), clientCa: certificateAuth.ca.caList, acceptUnauthenticated: true },
      });
      const port = listener.address.port;
      const withCert = await tlsLogin(port, { key: await readFile(join(pki, 'carol-key.pem'), 'utf8'), cert: await readFile(join(pki, 'carol.pem'), 'utf8') });
      expect(withCert).to.contain('</note-plugins><account id="fs:user:carol:1" name="carol"/><acl>');
      const anonymousWelcome = await tlsLogin(port);
      expect(anonymousWelcome).to.not.contain('<account');
    });
  });
});
