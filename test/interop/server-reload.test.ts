// SIGHUP makes tandemd re-read its configuration file and command line, as infinoted does: a
// password set in the file applies to the next connection, and the command line still wins.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './harness/index.js';
import { startTandemd, type TandemdUnderTest } from './server-harness.js';

const HEADER = '<stream:stream version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="localhost">';

/** The SASL mechanisms a fresh connection is offered. */
function mechanisms(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(HEADER));
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no stream features within 10 s: ${got}`));
    }, 10_000);
    socket.on('data', (d) => {
      got += d.toString('utf8');
      if (!got.includes('</stream:features>')) return;
      clearTimeout(timer);
      socket.destroy();
      resolve([...got.matchAll(/<mechanism>([^<]*)<\/mechanism>/g)].map((m) => m[1]!));
    });
    socket.on('error', reject);
  });
}

async function waitForOutput(s: TandemdUnderTest, text: string, after: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (s.output().indexOf(text, after) >= 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tandemd did not print "${text}":\n${s.output()}`);
}

describe('tandemd configuration reload on SIGHUP', function () {
  this.timeout(60_000);
  let server: TandemdUnderTest | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('applies a password set in the configuration file to new connections', async () => {
    const dir = tempDir('tandem-reload-');
    const config = join(dir, 'infinoted.conf');
    writeFileSync(config, '[infinoted]\nsecurity-policy=no-tls\n');
    server = await startTandemd({ securityPolicy: 'no-tls', extraArgs: [`--config-file=${config}`] });
    expect(await mechanisms(server.port)).to.deep.equal(['ANONYMOUS']);

    writeFileSync(config, '[infinoted]\nsecurity-policy=no-tls\npassword=s3cret\n');
    let mark = server.output().length;
    server.signal('SIGHUP');
    await waitForOutput(server, 'Configuration reloaded', mark);
    expect(await mechanisms(server.port)).to.deep.equal(['PLAIN']);

    // A broken file is reported and the running configuration stays.
    writeFileSync(config, '[infinoted]\npassword=other\nthis line is not a key file entry\n');
    mark = server.output().length;
    server.signal('SIGHUP');
    await waitForOutput(server, 'configuration not reloaded', mark);
    expect(await mechanisms(server.port)).to.deep.equal(['PLAIN']);
  });
});
