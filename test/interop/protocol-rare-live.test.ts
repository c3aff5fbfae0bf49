// The real infinoted 0.7.2 and the real libinfinity client made to send the messages no capture
// holds, byte for byte as packages/protocol/test/rare-messages.test.ts expects them (keep the two
// lists equal): change-acl-account (a certificate login whose account changes on a SIGHUP reload
// with another root, i.e. another accounts.xml), sync-error (bad sync-ins; tandemd answers the
// same bytes; and the client cancelling a synchronisation it receives) and sync-cancel (a document
// removed while it is still synchronised to a subscriber that does not read, so the
// synchronisation cannot have been handed to the socket yet; and the client cancelling an upload).
// The client's bytes are recorded by a loopback relay between it and the server.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { INFINOTED } from './harness/prerequisites.js';
import { freePort, requireRealLibinfinity, startDriver, startInfinoted, stopProcess, tempDir, testCertificate, track, type InfDriver, type ServerUnderTest } from './harness/index.js';
import { RawXmpp, dir, group } from './harness/raw-xmpp.js';
import { startTandemd } from './server-harness.js';


const DEFAULT_SHEET =
  '<sheet id="default" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="no" can-create-account="no" can-override-account="no" can-remove-account="no" can-query-acl="no" can-set-acl="no"/>';
const DEFAULT_ACL_FILE = `<?xml version="1.0"?>\n<inf-acl>\n  ${DEFAULT_SHEET.replace('id="default"', 'account="default"')}\n`;

/**
 * A loopback relay to `target` that keeps, as text, what the client sent through it. `hold`
 * stops reading one direction after the first chunk holding a string (that chunk is still
 * forwarded), until resume(): the other side then finds the connection stalled, as on a slow
 * network, so that a synchronisation is still in progress when the client cancels it.
 */
async function recordingRelay(target: number, hold?: { from: 'client' | 'server'; after: string }): Promise<{
  port: number; fromClient: () => string; resume: () => void; close: () => Promise<void>;
}> {
  let sent = '';
  let held: Socket | undefined;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = createConnection(target, '127.0.0.1');
    sockets.push(client, upstream);
    const forward = (from: Socket, to: Socket, side: 'client' | 'server'): void => {
      let seen = '';
      from.on('data', (b: Buffer) => {
        const text = b.toString('utf8');
        if (side === 'client') sent += text;
        to.write(b);
        if (hold?.from === side && held === undefined) {
          // The tail of the previous chunk, for a string cut in two.
          const window = seen + text;
          seen = window.slice(-hold.after.length);
          if (window.includes(hold.after)) {
            held = from;
            from.pause();
          }
        }
      });
    };
    forward(client, upstream, 'client');
    forward(upstream, client, 'server');
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const x of [client, upstream]) {
      x.on('close', end);
      x.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    fromClient: () => sent,
    resume: () => void held?.resume(),
    close: () => new Promise<void>((resolve) => {
      for (const x of sockets) x.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A root holding big.InfText: `n` runs of 1000 characters by two authors. */
function rootWithBigDocument(n: number): string {
  const root = tempDir('tandem-rare-big-');
  const run = 'abcdefghij'.repeat(100);
  const segments: string[] = [];
  for (let i = 0; i < n; i++) segments.push(`    <segment author="${1 + (i % 2)}">${run}</segment>\n`);
  writeFileSync(join(root, 'big.InfText'), '<?xml version="1.0"?>\n<inf-text-session>\n  <user id="1" name="alice" hue="0.25"/>\n  <user id="2" name="bob" hue="0.5"/>\n  <buffer>\n' + segments.join('') + '  </buffer>\n</inf-text-session>\n');
  return root;
}

function accounts(list: string): string {
  return `<?xml version="1.0"?>\n<inf-acl-account-list>${list}</inf-acl-account-list>\n`;
}

describe('rare messages from a live infinoted 0.7.2 (change-acl-account, sync-error, sync-cancel)', function () {
  this.timeout(120000);
  const clients: RawXmpp[] = [];
  const stops: (() => Promise<void>)[] = [];

  before(() => requireRealLibinfinity());
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(stops.splice(0).map((s) => s()));
  });

  /** A real libinfinity client, stopped after the test. */
  async function driver(): Promise<InfDriver> {
    const d = await startDriver();
    stops.push(() => d.stop());
    return d;
  }

  /** Waits until the client has sent `end` through the relay; returns the <group> that ends with it. */
  async function sentGroup(fromClient: () => string, end: string): Promise<string> {
    for (let i = 0; i < 300 && !fromClient().includes(end); i++) await new Promise((r) => setTimeout(r, 50));
    const all = fromClient();
    const stop = all.indexOf(end);
    expect(stop, `the client never sent ${end}; its last bytes: ${all.slice(-500)}`).to.be.at.least(0);
    return all.slice(all.lastIndexOf('<group ', stop), stop + end.length);
  }

  for (const which of ['infinoted', 'tandemd'] as const) {
    it(`sync-error from the real libinfinity client: it closes a session during its synchronisation (${which})`, async () => {
      const o = { securityPolicy: 'no-tls' as const, root: rootWithBigDocument(8000) };
      const s = which === 'tandemd' ? await startTandemd(o) : await startInfinoted(o);
      stops.push(() => s.stop());
      // The server's synchronisation reaches the client up to the chunk with sync-begin, then stalls.
      const relay = await recordingRelay(s.port, { from: 'server', after: '<sync-begin ' });
      stops.push(relay.close);
      const d = await driver();
      await d.call('connect', { port: relay.port, security: 'no-tls', user: 'quitter' });
      const { progress } = await d.call('subscribe_cancel', { path: '/big' }, { timeoutMs: 60000 });
      expect(progress).to.be.above(0).and.below(1);
      relay.resume();
      expect(await sentGroup(relay.fromClient, '</sync-error></group>')).to.equal(
        '<group publisher="you" name="InfSession_1"><sync-error code="8" domain="INF_SESSION_SYNC_ERROR">The receiver cancelled the synchronization</sync-error></group>',
      );
      // The server dropped the synchronisation and serves the client on.
      expect((await d.call('explore', { path: '/' })).children).to.deep.equal([{ name: 'big', type: 'InfText' }]);
    });

    it(`sync-cancel from the real libinfinity client: it closes its session during a sync-in upload (${which})`, async () => {
      const s = which === 'tandemd' ? await startTandemd({ securityPolicy: 'no-tls' }) : await startInfinoted({ securityPolicy: 'no-tls' });
      stops.push(() => s.stop());
      // The upload stalls after sync-begin: the client's socket buffers fill and libinfinity keeps
      // the rest of the synchronisation queued, so it is still in progress when the client cancels.
      const relay = await recordingRelay(s.port, { from: 'client', after: '<sync-begin ' });
      stops.push(relay.close);
      const d = await driver();
      await d.call('connect', { port: relay.port, security: 'no-tls', user: 'uploader' });
      const { progress } = await d.call('create_cancel', { path: '/upload', text: 'x'.repeat(12_000_000) }, { timeoutMs: 60000 });
      expect(progress).to.be.above(0).and.below(1);
      relay.resume();
      expect(await sentGroup(relay.fromClient, '<sync-cancel/></group>')).to.equal('<group publisher="you" name="InfSession_SyncIn_1"><sync-cancel/></group>');
      // The upload never became a document for anyone else.
      const other = await driver();
      await other.call('connect', { port: s.port, security: 'no-tls', user: 'other' });
      expect((await other.call('explore', { path: '/' })).children).to.deep.equal([]);
    });
  }

  const client = (port: number): RawXmpp => {
    const c = new RawXmpp(port);
    clients.push(c);
    return c;
  };

  it('change-acl-account: a certificate login moved to another account by a reload, then back to default', async () => {
    const home = tempDir('tandem-rare-acl-');
    const pki = join(home, 'pki');
    mkdirSync(pki);
    const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' });
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Rare CA']);
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'alice-key.pem', '-out', 'alice.csr', '-subj', '/CN=alice']);
    openssl(['x509', '-req', '-in', 'alice.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'alice.pem', '-days', '2']);
    const roots = ['r1', 'r2', 'r3'].map((r) => join(home, r));
    for (const r of roots) mkdirSync(r);
    // r1: alice's certificate is fs:user:alice; alicia exists (with another DN), so that r2's
    // sheet for alicia survives the ACL check the storage switch makes against r1's accounts.
    writeFileSync(join(roots[0]!, 'accounts.xml'), accounts('<account id="fs:user:alice" name="alice"><certificate>CN=alice</certificate></account><account id="fs:user:alicia" name="alicia"><certificate>CN=nobody</certificate></account>'));
    // r2: the same certificate is alicia's, who has a sheet of her own on the root.
    writeFileSync(join(roots[1]!, 'accounts.xml'), accounts('<account id="fs:user:alicia" name="alicia"><certificate>CN=alice</certificate></account>'));
    writeFileSync(join(roots[1]!, 'global-acl.xml'), `${DEFAULT_ACL_FILE}  <sheet account="fs:user:alicia" can-remove-node="no" can-query-acl="yes"/>\n</inf-acl>\n`);
    // r3: nobody has the certificate.
    const port = await freePort();
    const { keyFile, certFile } = testCertificate();
    const configDir = join(home, 'config');
    mkdirSync(configDir);
    const configure = (root: string): void => writeFileSync(join(configDir, 'infinoted.conf'), [
      '[infinoted]', 'security-policy=require-tls', `key-file=${keyFile}`, `certificate-file=${certFile}`, `root-directory=${root}`,
      'listen-address=127.0.0.1', `port=${port}`, 'plugins=note-text;certificate-auth', '[certificate-auth]', `ca-list=${join(pki, 'ca.pem')}`, '',
    ].join('\n'));
    configure(roots[0]!);
    // No command line: a reload reads the configuration file alone (the command line would win).
    const proc = spawn(INFINOTED, [], { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: configDir, XDG_CONFIG_DIRS: configDir, LC_ALL: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc);
    stops.push(() => stopProcess(proc));
    let log = '';
    proc.stdout.on('data', (b: Buffer) => (log += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const logged = async (text: string, after: number): Promise<void> => {
      for (let i = 0; i < 600 && log.indexOf(text, after) < 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(log.indexOf(text, after), log).to.be.at.least(0);
    };
    await logged('Server running on port', 0);

    const alice = client(port);
    const cred = { key: readFileSync(join(pki, 'alice-key.pem'), 'utf8'), cert: readFileSync(join(pki, 'alice.pem'), 'utf8') };
    await alice.login('alice', cred);
    let mark = log.length;
    configure(roots[1]!);
    proc.kill('SIGHUP');
    await logged('Configuration reloaded', mark);
    expect(await alice.until('</change-acl-account></group>')).to.equal(
      `<group name="InfDirectory"><set-acl id="0"><acl>${DEFAULT_SHEET}</acl></set-acl></group>` +
        '<group name="InfDirectory"><change-acl-account id="fs:user:alicia" name="alicia"><acl node-id="0" can-remove-node="no" can-query-acl="yes"/></change-acl-account></group>',
    );
    mark = log.length;
    configure(roots[2]!);
    proc.kill('SIGHUP');
    await logged('Configuration reloaded', mark);
    expect(await alice.until('<change-acl-account id="default"/></group>')).to.equal(
      `<group name="InfDirectory"><set-acl id="0"><acl>${DEFAULT_SHEET}<sheet id="fs:user:alicia"/></acl></set-acl></group>` +
        '<group name="InfDirectory"><change-acl-account id="default"/></group>',
    );
  });

  /** Two sync-ins of bad documents; returns what the server answered to each. */
  async function badSyncIns(s: ServerUnderTest): Promise<string[]> {
    const c = client(s.port);
    const seqId = await c.login('uploader');
    const answers: string[] = [];
    const probes = [
      // A segment by author 8, who is not among the synchronised users.
      (g: string) => group(g, '<sync-begin num-messages="2"/>') + group(g, '<sync-user id="7" name="up" status="unavailable" time="" caret="0" selection="0" hue="0.5"/>') +
        group(g, '<sync-segment author="8">x</sync-segment>') + group(g, '<sync-end/>'),
      // Three messages announced, one sent.
      (g: string) => group(g, '<sync-begin num-messages="3"/>') + group(g, '<sync-user id="7" name="up" status="unavailable" time="" caret="0" selection="0" hue="0.5"/>') + group(g, '<sync-end/>'),
    ];
    for (const [i, probe] of probes.entries()) {
      c.send(dir(`<add-node seq="${i + 1}" parent="0" type="InfText" name="bad${i}"><sync-in/></add-node>`));
      const reply = await c.until('</group>');
      const m = /<sync-in id="(\d+)" parent="0" name="bad\d" type="InfText" group="(InfSession_SyncIn_\d+)" method="central" seq="(\d+\/\d+)"\/>/.exec(reply);
      expect(m, reply).to.not.equal(null);
      expect(m![3]).to.equal(`${seqId}/${i + 1}`);
      c.send(dir(`<subscribe-ack id="${m![1]}"/>`));
      c.send(probe(m![2]!));
      answers.push(await c.until('</group>'));
    }
    return answers;
  }

  const SYNC_ERRORS = [
    '<group name="InfSession_SyncIn_1"><sync-error code="2" domain="INF_USER_ERROR">No such user with ID \'8\'</sync-error></group>',
    '<group name="InfSession_SyncIn_2"><sync-error code="11" domain="INF_SESSION_SYNC_ERROR">Got end-of-sync message, but synchronization is still in progress</sync-error></group>',
  ];

  it('sync-error: infinoted refuses bad sync-ins with these bytes', async () => {
    const s = await startInfinoted({ securityPolicy: 'no-tls' });
    stops.push(() => s.stop());
    expect(await badSyncIns(s)).to.deep.equal(SYNC_ERRORS);
  });

  it('sync-error: tandemd refuses the same sync-ins with the same bytes', async () => {
    const s = await startTandemd({ securityPolicy: 'no-tls' });
    stops.push(() => s.stop());
    expect(await badSyncIns(s)).to.deep.equal(SYNC_ERRORS);
  });

  it('sync-cancel: infinoted removes a document it is still synchronising to a subscriber that does not read', async () => {
    // 16 MB of text: far more than the loopback socket buffers hold (about 4 MB were in flight
    // when this was recorded), so most of the synchronisation is still queued in infinoted.
    const s = await startInfinoted({ securityPolicy: 'no-tls', root: rootWithBigDocument(16000) });
    stops.push(() => s.stop());
    const remover = client(s.port);
    const reader = client(s.port);
    const removerSeq = await remover.login('remover');
    await reader.login('reader');
    reader.send(dir('<subscribe-session seq="1" id="1"/>'));
    await reader.until('</group>');
    reader.send(dir('<subscribe-ack id="1"/>'));
    reader.pause();
    // Give infinoted time to fill the socket buffers with the start of the synchronisation.
    await new Promise((r) => setTimeout(r, 2000));
    remover.send(dir('<remove-node seq="1" id="1"/>'));
    expect(await remover.until('</group>')).to.equal(`<group name="InfDirectory"><remove-node id="1" seq="${removerSeq}/1"/></group>`);
    reader.resume();
    const got = await reader.until(`<remove-node id="1" seq="${removerSeq}/1"/></group>`, 60000);
    const segmentsGot = got.split('<sync-segment ').length - 1;
    // What had reached the socket arrives; the rest was dropped (inf_communication_group_cancel_messages).
    expect(segmentsGot, 'segments before the cancel').to.be.above(0).and.below(16000);
    expect(got).to.not.contain('<sync-end/>');
    expect(got.slice(got.lastIndexOf('</sync-segment></group>') + '</sync-segment></group>'.length)).to.equal(
      '<group name="InfSession_1"><sync-cancel/></group>' + `<group name="InfDirectory"><remove-node id="1" seq="${removerSeq}/1"/></group>`,
    );
  });
});
