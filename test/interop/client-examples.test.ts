// The examples in examples/ run as documented against the real infinoted, checked through
// libinfinity (infdriver.py).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireRealLibinfinity, startDriver, startInfinoted, type InfDriver, type ServerUnderTest } from './harness/index.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
const run = promisify(execFile);

describe('examples against the real infinoted', function () {
  this.timeout(60000);
  let server: ServerUnderTest;
  let driver: InfDriver;
  let dir: string;

  before(() => requireRealLibinfinity());
  beforeEach(async () => {
    server = await startInfinoted({ securityPolicy: 'no-tls' });
    driver = await startDriver();
    await driver.call('connect', { port: server.port, security: 'no-tls', user: 'lib' });
    dir = mkdtempSync(join(tmpdir(), 'tandem-examples-'));
  });
  afterEach(async () => {
    await driver.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const example = (name: string, args: string[]) =>
    run(process.execPath, [join(EXAMPLES, name), '--host', '127.0.0.1', '--port', String(server.port), ...args], { timeout: 45000 });

  it('append-bot appends timestamped lines that libinfinity reads', async () => {
    await example('append-bot.mjs', ['--path', '/log', '--every', '0.1', '--count', '3']);
    const { text } = await driver.call('subscribe', { path: '/log' });
    expect(text).to.match(/^(\d{4}-\d\d-\d\dT[\d:.]+Z tick [123]\n){3}$/);
  });

  it('mirror writes the document and its live changes into a file', async () => {
    await driver.call('create', { path: '/notes', text: 'start 😀\n' });
    const file = join(dir, 'mirror.txt');
    const mirroring = example('mirror.mjs', ['--path', '/notes', file, '--for', '4']);
    await driver.call('subscribe', { path: '/notes' });
    await driver.call('join', { path: '/notes', name: 'lib' });
    await new Promise((r) => setTimeout(r, 1500));
    await driver.call('insert', { path: '/notes', pos: 8, text: 'more\n' });
    const { stdout } = await mirroring;
    expect(readFileSync(file, 'utf8')).to.equal('start 😀\nmore\n');
    expect(stdout).to.contain('lib inserted "more\\n"');
  });

  it('typists converge on one text', async () => {
    const { stdout } = await example('typists.mjs', ['--path', '/race', '--typists', '3', '--keys', '8']);
    expect(stdout).to.match(/converged: 3 typists, 24 characters\n$/);
    const { text } = await driver.call('subscribe', { path: '/race' });
    expect(stdout.split('\n')[0]).to.equal(text);
  });
});
