import { expect } from 'chai';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownServers, CertificateChangedError, configDirectory, formatFingerprint } from '../src/net/known-servers.js';

describe('KnownServers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-known-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pins the first certificate it sees and accepts it again later', async () => {
    const store = await KnownServers.open(dir);
    expect(await store.verify('Example.org', 6523, 'SHA256:AA')).to.equal('new');
    const again = await KnownServers.open(dir);
    expect(await again.verify('example.org', 6523, 'SHA256:AA')).to.equal('match');
    const saved = JSON.parse(await readFile(join(dir, 'known-servers.json'), 'utf8'));
    expect(saved.servers['example.org:6523'].fingerprint).to.equal('SHA256:AA');
  });

  it('refuses a changed certificate with a message that names both fingerprints and the way out', async () => {
    const store = await KnownServers.open(dir);
    await store.verify('h', 1, 'SHA256:AA');
    let error: unknown;
    try {
      await store.verify('h', 1, 'SHA256:BB');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(CertificateChangedError);
    const message = (error as Error).message;
    expect(message).to.contain('has changed').and.contain('SHA256:AA').and.contain('SHA256:BB').and.contain('--insecure');
    expect(message).to.contain(join(dir, 'known-servers.json'));
  });

  it('keeps pins per host and port', async () => {
    const store = await KnownServers.open(dir);
    await store.verify('h', 1, 'SHA256:AA');
    expect(store.check('h', 2, 'SHA256:BB')).to.deep.equal({ status: 'new' });
  });

  it('lives in XDG_CONFIG_HOME/tandem, else ~/.config/tandem', () => {
    expect(configDirectory({ XDG_CONFIG_HOME: '/x' })).to.equal('/x/tandem');
    expect(configDirectory({})).to.match(/\.config\/tandem$/);
  });

  it('formats a fingerprint as colon-separated upper-case hex', () => {
    expect(formatFingerprint('0a1b')).to.equal('SHA256:0A:1B');
  });
});
