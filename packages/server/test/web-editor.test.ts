// The web editor's HTTP side: the page with its import map, the modules from the installed
// packages (CommonJS wrapped), refusals (dot segments, absolute paths, files and packages outside
// the roots, symbolic links leading out), and the switch (--no-web-editor / web-editor=false).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anonymous } from '../src/auth.js';
import { type Environment, UsageError, parseCommandLine, resolveOptions } from '../src/config/options.js';
import { restartOnlyChanges } from '../src/cli/reload.js';
import { type RunningDaemon, startDaemon } from '../src/cli/run.js';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { type WebEditor, WebEditorUnavailableError, createWebEditor } from '../src/transport/web-editor.js';
import { type WebSocketListener, listenWebSocket } from '../src/transport/ws.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path exactly as given (no URL normalisation on the way, unlike fetch). */
function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** packages/server/dist/test -> the repository's node_modules */
const NODE_MODULES = new URL('../../../../node_modules/', import.meta.url);
const installed = (path: string): string => readFileSync(new URL(path, NODE_MODULES), 'utf8');

/** Imports a served module that has no imports of its own, as a browser would. */
async function importServed(source: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as Record<string, unknown>;
}

describe('web editor: page and modules on the WebSocket port', () => {
  let dir: string;
  let server: TandemServer;
  let listener: WebSocketListener;
  let editor: WebEditor;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-web-editor-'));
    server = await createServer({ storage: new FilesystemStorage(dir), auth: anonymous(), securityPolicy: 'no-tls', log: () => undefined });
    editor = createWebEditor();
    listener = await listenWebSocket(server, { port: 0, host: '127.0.0.1', webEditor: editor });
    port = listener.address.port;
  });

  after(async () => {
    await listener.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / with an import map for the client and its dependencies, allowed by its CSP hash', async () => {
    const page = await get(port, '/?doc=/notes&user=ann');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page.body);
    expect(m, 'the page has a filled import map').to.not.equal(null);
    const map = JSON.parse(m![1]!) as { imports: Record<string, string> };
    expect(map.imports).to.deep.equal(editor.importMap.imports);
    expect(map.imports).to.include({
      '@tandem/client': '/modules/@tandem/client/index.js',
      '@tandem/protocol': '/modules/@tandem/protocol/index.js',
      '@tandem/adopted': '/modules/@tandem/adopted/index.js',
      'diff-match-patch': '/modules/diff-match-patch/index.js',
      '@xmpp/xml': '/modules/@xmpp/xml/index.js',
      events: '/modules/events/events.js',
      'ltx/': '/modules/ltx/',
    });
    // Node-only dependencies of the client are not part of the browser's graph.
    expect(Object.keys(map.imports).filter((k) => /^(ws|lowdb)\b/.test(k))).to.deep.equal([]);
    const hash = createHash('sha256').update(m![1]!).digest('base64');
    expect(page.headers['content-security-policy']).to.include(`script-src 'self' 'sha256-${hash}'`);
    expect(page.headers['content-security-policy']).to.include("connect-src 'self'");
    expect((await get(port, '/index.html')).body).to.equal(page.body);
  });

  it('serves the page\'s script and style with their content types', async () => {
    const js = await get(port, '/editor.js');
    expect(js.status).to.equal(200);
    expect(js.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(js.body).to.include("from '@tandem/client'");
    const css = await get(port, '/editor.css');
    expect(css.headers['content-type']).to.equal('text/css; charset=utf-8');
  });

  it('serves every import map target, ES modules byte for byte from the built packages', async () => {
    for (const [spec, url] of Object.entries(editor.importMap.imports)) {
      if (spec.endsWith('/')) continue;
      const r = await get(port, url);
      expect(r.status, url).to.equal(200);
      expect(r.headers['content-type'], url).to.equal('text/javascript; charset=utf-8');
      expect(r.headers['x-content-type-options'], url).to.equal('nosniff');
      expect(r.headers['access-control-allow-origin'], url).to.equal('*');
    }
    const clientIndex = readFileSync(join(editor.packages.get('@tandem/client')!, 'index.js'), 'utf8');
    expect((await get(port, '/modules/@tandem/client/index.js')).body).to.equal(clientIndex);
    expect((await get(port, '/modules/@xmpp/xml/index.js')).body).to.equal(installed('@xmpp/xml/index.js'));
    const map = await get(port, '/modules/@tandem/protocol/index.js.map');
    expect(map.status).to.equal(200);
    expect(map.headers['content-type']).to.equal('application/json; charset=utf-8');
    const head = await get(port, '/modules/@tandem/client/index.js', 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
    expect(Number(head.headers['content-length'])).to.equal(Buffer.byteLength(clientIndex));
  });

  it('wraps CommonJS as an ES module: module.exports is the default export, its keys the named ones', async () => {
    const dmp = await get(port, '/modules/diff-match-patch/index.js');
    expect(dmp.body).to.include(installed('diff-match-patch/index.js'));
    const mod = await importServed(dmp.body);
    const DiffMatchPatch = mod.default as new () => { diff_main(a: string, b: string): [number, string][] };
    expect(new DiffMatchPatch().diff_main('abc', 'abd')).to.deep.equal([[0, 'ab'], [-1, 'c'], [1, 'd']]);
    expect(mod.diff_match_patch).to.equal(DiffMatchPatch);
    expect([mod.DIFF_DELETE, mod.DIFF_INSERT, mod.DIFF_EQUAL]).to.deep.equal([-1, 1, 0]);

    // @xmpp/events imports { EventEmitter } from "events": the npm package, a property of its function export.
    const events = await importServed((await get(port, '/modules/events/events.js')).body);
    expect(events.EventEmitter).to.equal(events.default);
    const Emitter = events.default as new () => { on(e: string, f: (x: number) => void): void; emit(e: string, x: number): boolean };
    let seen = 0;
    const e = new Emitter();
    e.on('x', (x) => (seen = x));
    e.emit('x', 7);
    expect(seen).to.equal(7);

    // ltx's lib/ is CommonJS with require()s: they become imports of the served files.
    const sax = (await get(port, '/modules/ltx/lib/parsers/ltx.js')).body;
    expect(sax).to.include('import __r0 from "/modules/events/events.js";');
    expect(sax).to.include('import __r1 from "/modules/ltx/lib/escape.js";');
    expect(sax).to.include('new Map([["events", __r0], ["../escape.js", __r1]])');
    const escape = await importServed((await get(port, '/modules/ltx/lib/escape.js')).body);
    expect((escape.escapeXML as (s: string) => string)('<a&b>')).to.equal('&lt;a&amp;b&gt;');
    // An ES module of a package is never wrapped.
    expect((await get(port, '/modules/ltx/src/escape.js')).body).to.equal(installed('ltx/src/escape.js'));
  });

  it('refuses dot segments, empty segments, encoded separators and bad encodings with 400', async () => {
    for (const path of [
      '/modules/../package.json',
      '/modules/@tandem/client/../../package.json',
      '/modules/ltx/lib/../../../package.json',
      '/modules/ltx/./lib/escape.js',
      '/modules/%2e%2e/%2e%2e/etc/passwd',
      '/modules/ltx/%2e%2e%2fpackage.json',
      '/modules/ltx/lib%5c..%5c..%5cpackage.json',
      '/modules//etc/passwd',
      '/modules/@tandem/client//etc/passwd.js',
      '/modules/ltx/lib/escape.js%00.js',
      '/modules/ltx/%E0%A4%A',
    ]) {
      const r = await get(port, path);
      expect(r.status, path).to.equal(400);
      expect(r.body, path).to.equal('Bad Request\n');
    }
  });

  it('answers 404 for files and packages outside the roots and for other file types', async () => {
    for (const path of [
      '/modules/@tandem/client/package.json', // outside dist/src
      '/modules/@tandem/client/src/index.ts', // no sources, only dist/src
      '/modules/@tandem/server/index.js', // not in the browser's graph
      '/modules/ws/index.js', // the client's Node-only dependency
      '/modules/lowdb/lib/index.js',
      '/modules/etc/passwd',
      '/modules/ltx/README.md',
      '/modules/ltx/package.json',
      '/modules/@tandem/client/no-such-file.js',
      '/modules/@tandem/client/net', // a directory
      '/modules/@tandem/client',
    ]) {
      const r = await get(port, path);
      expect(r.status, path).to.equal(404);
    }
  });

  it('is read-only, and leaves other paths to the WebSocket port\'s 426 answer', async () => {
    const post = await get(port, '/', 'POST');
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect((await get(port, '/modules/ltx/lib/escape.js', 'DELETE')).status).to.equal(405);
    const other = await get(port, '/somewhere-else');
    expect(other.status).to.equal(426);
    expect((await get(port, '/../etc/passwd')).status).to.equal(426);
  });
});

describe('web editor: package resolution', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tandem-web-packages-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A package tree in `root`: node_modules/@tandem/client (built) with one dependency. */
  function tree(): { client: string; dep: string } {
    const client = join(root, 'node_modules', '@tandem', 'client');
    const dep = join(root, 'node_modules', 'dep');
    mkdirSync(join(client, 'dist', 'src'), { recursive: true });
    mkdirSync(join(dep, 'node_modules', 'nested'), { recursive: true });
    writeFileSync(join(client, 'package.json'), JSON.stringify({ name: '@tandem/client', type: 'module', exports: { '.': { default: './dist/src/index.js' } }, dependencies: { dep: '1', ws: '8' } }));
    writeFileSync(join(client, 'dist', 'src', 'index.js'), "import d from 'dep';\nexport default d;\n");
    writeFileSync(join(client, 'secret.js'), 'outside dist/src');
    writeFileSync(join(dep, 'package.json'), JSON.stringify({ name: 'dep', main: 'main.js' }));
    writeFileSync(join(dep, 'main.js'), 'module.exports = { answer: 42 };\n');
    writeFileSync(join(dep, 'node_modules', 'nested', 'x.js'), 'nested');
    writeFileSync(join(root, 'outside.js'), 'outside every root');
    return { client, dep };
  }

  async function serve(editor: WebEditor): Promise<{ port: number; close(): Promise<void> }> {
    mkdirSync(join(root, 'docs'));
    const server = await createServer({ storage: new FilesystemStorage(join(root, 'docs')), auth: anonymous(), securityPolicy: 'no-tls', log: () => undefined });
    const listener = await listenWebSocket(server, { port: 0, host: '127.0.0.1', webEditor: editor });
    return { port: listener.address.port, close: async () => (await listener.close(), await server.close()) };
  }

  it('follows dependencies from @tandem/client, leaving out the Node-only ones', () => {
    tree();
    const editor = createWebEditor({ from: root });
    expect([...editor.packages.keys()]).to.deep.equal(['@tandem/client', 'dep']);
    expect(editor.importMap.imports).to.deep.equal({
      '@tandem/client': '/modules/@tandem/client/index.js',
      dep: '/modules/dep/main.js',
      'dep/': '/modules/dep/',
    });
  });

  it('refuses symbolic links that lead out of a package and nested node_modules', async () => {
    const { client, dep } = tree();
    symlinkSync(join(root, 'outside.js'), join(dep, 'escape.js'));
    symlinkSync(join(client, 'secret.js'), join(client, 'dist', 'src', 'secret.js'));
    symlinkSync(join(dep, 'main.js'), join(dep, 'inside.js'));
    const s = await serve(createWebEditor({ from: root }));
    try {
      expect((await get(s.port, '/modules/dep/escape.js')).status).to.equal(404);
      expect((await get(s.port, '/modules/@tandem/client/secret.js')).status).to.equal(404);
      expect((await get(s.port, '/modules/dep/node_modules/nested/x.js')).status).to.equal(404);
      const inside = await get(s.port, '/modules/dep/inside.js');
      expect(inside.status).to.equal(200);
      expect((await importServed(inside.body)).answer).to.equal(42);
    } finally {
      await s.close();
    }
  });

  it('says which package is missing or not built', () => {
    const { client } = tree();
    rmSync(join(root, 'node_modules', 'dep'), { recursive: true });
    expect(() => createWebEditor({ from: root })).to.throw(WebEditorUnavailableError, /cannot find the package dep \(needed by @tandem\/client\)/);
    rmSync(join(client, 'dist'), { recursive: true });
    expect(() => createWebEditor({ from: root })).to.throw(WebEditorUnavailableError, /@tandem\/client is not built/);
  });
});

describe('web editor: the switch', () => {
  const env = (files: Record<string, string> = {}): Environment => ({
    env: {},
    home: '/home/u',
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  });

  it('is on by default, off with --no-web-editor, --web-editor=false or web-editor=false in the file', () => {
    expect(resolveOptions(parseCommandLine(['--ws-port=8080']), env()).webEditor).to.equal(true);
    expect(resolveOptions(parseCommandLine(['--no-web-editor']), env()).webEditor).to.equal(false);
    expect(resolveOptions(parseCommandLine(['--web-editor=false']), env()).webEditor).to.equal(false);
    const conf = { '/c.conf': '[infinoted]\nws-port=8080\nweb-editor=false\n' };
    expect(resolveOptions(parseCommandLine(['--config-file=/c.conf']), env(conf)).webEditor).to.equal(false);
    // The command line wins over the file.
    expect(resolveOptions(parseCommandLine(['--config-file=/c.conf', '--web-editor=true']), env(conf)).webEditor).to.equal(true);
    expect(() => resolveOptions(parseCommandLine(['--web-editor=maybe']), env())).to.throw(UsageError, /Invalid web-editor "maybe"/);
  });

  it('takes a restart to change, like the WebSocket port (SIGHUP says so)', () => {
    const on = resolveOptions(parseCommandLine(['--ws-port=8080']), env());
    const off = resolveOptions(parseCommandLine(['--ws-port=8080', '--no-web-editor']), env());
    expect(restartOnlyChanges(on, off, () => [])).to.deep.equal(['"web-editor" changed: it takes effect after a restart']);
    expect(restartOnlyChanges(on, on, () => [])).to.deep.equal([]);
  });

  describe('in a running tandemd', () => {
    let dir: string;
    let daemon: RunningDaemon | undefined;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tandem-web-switch-'));
    });
    afterEach(async () => {
      await daemon?.stop();
      daemon = undefined;
      rmSync(dir, { recursive: true, force: true });
    });

    async function start(args: string[]): Promise<{ port: number; log: string[] }> {
      const log: string[] = [];
      const o = resolveOptions(parseCommandLine(['--port=0', '--ws-port=0', '--listen-address=127.0.0.1', '--security-policy=no-tls', `--root-directory=${dir}`, ...args]), env());
      daemon = await startDaemon(o, { dataDirectory: join(dir, 'data'), out: (line) => log.push(line) });
      return { port: daemon.wsListener!.address.port, log };
    }

    it('serves the page with --ws-port alone and logs where', async () => {
      const { port, log } = await start([]);
      expect((await get(port, '/')).status).to.equal(200);
      expect(log.join('\n')).to.include(`Web editor on http://HOST:${port}/`);
    });

    it('answers 426 everywhere with --no-web-editor', async () => {
      const { port, log } = await start(['--no-web-editor']);
      expect((await get(port, '/')).status).to.equal(426);
      expect((await get(port, '/modules/@tandem/client/index.js')).status).to.equal(426);
      expect(log.join('\n')).to.not.include('Web editor');
    });
  });
});
