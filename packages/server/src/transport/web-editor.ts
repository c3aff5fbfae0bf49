/**
 * The web editor on the WebSocket port: plain HTTP GETs get a page (packages/server/web) that
 * edits a document with @tandem/client over a WebSocket to the same host and port, and the ES
 * modules it imports, straight from the installed packages (no bundler). What may be served is
 * decided once, at start: the page's own files, the compiled sources (dist/src) of the @tandem
 * packages the client needs, and the package directories of their npm dependencies as the client
 * uses them in a browser (the closure of `dependencies` from @tandem/client, without the packages
 * it loads only in Node). The page resolves bare imports with an import map built from the same
 * list. CommonJS files (diff-match-patch, `events`, ltx's lib/) are served wrapped as ES modules.
 * Read-only: GET and HEAD, nothing outside those directories, and symbolic links are followed
 * only when they stay inside.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebEditorOptions {
  /** Where package lookup starts, as Node's resolution would (default: the @tandem/server package). */
  from?: string;
  /** The page's files (default: packages/server/web). */
  pageDirectory?: string;
}

export interface WebEditor {
  /**
   * Answers a plain HTTP request for the page or a module and returns true; returns false for a
   * path that is not the editor's (the caller answers those).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The import map the page carries: bare specifier -> URL path. */
  readonly importMap: { readonly imports: Readonly<Record<string, string>> };
  /** Every served package and the directory served for it. */
  readonly packages: ReadonlyMap<string, string>;
}

/** Where the browser's module graph starts. */
const ENTRY_PACKAGE = '@tandem/client';
/** Dependencies the client imports only in Node, with import(): WebSockets there, the pin store's file. */
const NODE_ONLY = new Set(['ws', 'lowdb']);
/** URL path under which the packages are served: /modules/<name>/<path inside the served directory>. */
const MODULES = '/modules/';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_PAGE_DIRECTORY = join(PACKAGE_ROOT, 'web');

/** Content types by extension; anything else is not served. */
const MODULE_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  // Source maps, for the browser's developer tools (they point at sources that are not served).
  '.map': 'application/json; charset=utf-8',
};
const PAGE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface ServedPackage {
  readonly name: string;
  /** The package directory (real path). */
  readonly dir: string;
  /** The directory served for it (real path): dist/src for ours, the package directory otherwise. */
  readonly root: string;
  /** The file a bare import of the package loads, if it has one. */
  readonly entry: string | undefined;
}

/** Thrown by createWebEditor when the packages the page needs cannot be found (or are not built). */
export class WebEditorUnavailableError extends Error {
  override readonly name = 'WebEditorUnavailableError';
}

/** The package directory Node would find for `name` from `from` (node_modules of every ancestor). */
function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The target of an `exports` value for a browser: the first of browser, import, default. */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    const conditions = value as Record<string, unknown>;
    for (const c of ['browser', 'import', 'default']) {
      if (c in conditions) return exportTarget(conditions[c]);
    }
  }
  return undefined;
}

interface Manifest {
  main?: string;
  type?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
}

function entryOf(dir: string, m: Manifest): string | undefined {
  let target: string | undefined;
  if (m.exports !== undefined) {
    const e = m.exports;
    const subpaths = e && typeof e === 'object' && !Array.isArray(e) && Object.keys(e).some((k) => k.startsWith('.'));
    // With an exports map, only "." (or the whole map, without subpaths) is the bare import.
    target = exportTarget(subpaths ? (e as Record<string, unknown>)['.'] : e);
    if (target === undefined) return undefined;
  } else {
    target = m.main ?? 'index.js';
  }
  let file = resolve(dir, target);
  if (!existsSync(file) && existsSync(file + '.js')) file += '.js';
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.js');
  return existsSync(file) ? realpathSync(file) : undefined;
}

/** @tandem/client and its dependencies as a browser loads them. */
function browserPackages(from: string): Map<string, ServedPackage> {
  const packages = new Map<string, ServedPackage>();
  const queue: { name: string; from: string; by: string }[] = [{ name: ENTRY_PACKAGE, from, by: '@tandem/server' }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { name } = next;
    if (packages.has(name) || NODE_ONLY.has(name)) continue;
    const dir = findPackage(name, next.from);
    if (!dir) throw new WebEditorUnavailableError(`cannot find the package ${name} (needed by ${next.by}) in any node_modules above ${next.from}`);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    let root = dir;
    if (name.startsWith('@tandem/')) {
      const compiled = join(dir, 'dist', 'src');
      if (!existsSync(compiled)) throw new WebEditorUnavailableError(`${name} is not built (no ${compiled}): run \`npx tsc -b\``);
      root = realpathSync(compiled);
    }
    packages.set(name, { name, dir, root, entry: entryOf(dir, manifest) });
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir, by: name });
  }
  return packages;
}

function inside(root: string, file: string): boolean {
  return file.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** URL path of a file of a served package. */
function urlOf(p: ServedPackage, file: string): string {
  return MODULES + p.name + '/' + relative(p.root, file).split(sep).map(encodeURIComponent).join('/');
}

function buildImportMap(packages: Map<string, ServedPackage>): Record<string, string> {
  const imports: Record<string, string> = {};
  for (const p of packages.values()) {
    if (p.entry && inside(p.root, p.entry)) imports[p.name] = urlOf(p, p.entry);
    // Deep imports (@xmpp/xml imports "ltx/lib/Element.js") where the whole package is served.
    if (p.root === p.dir) imports[p.name + '/'] = MODULES + p.name + '/';
  }
  return imports;
}

/** Whether Node would load `file` as CommonJS: .cjs, or .js under a package.json without "type": "module". */
function isCommonJs(file: string, stopAt: string, cache: Map<string, boolean>): boolean {
  if (file.endsWith('.cjs')) return true;
  if (file.endsWith('.mjs')) return false;
  const seen: string[] = [];
  let result = true;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const known = cache.get(dir);
    if (known !== undefined) {
      result = known;
      break;
    }
    seen.push(dir);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        result = (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).type !== 'module';
      } catch {
        result = true;
      }
      break;
    }
    if (dir === stopAt || dirname(dir) === dir) break;
  }
  for (const d of seen) cache.set(d, result);
  return result;
}

/** An IdentifierName (reserved words included: they are valid after `as` in an export list). */
const IDENTIFIER_NAME = /^[A-Za-z_$][\w$]*$/;

type RequestedPath =
  | { kind: 'page'; file: string }
  | { kind: 'module'; pkg: ServedPackage; file: string }
  | { kind: 'refused'; status: 400 | 404; reason: string }
  | { kind: 'other' };

export function createWebEditor(options: WebEditorOptions = {}): WebEditor {
  const pageDirectory = realpathSync(options.pageDirectory ?? DEFAULT_PAGE_DIRECTORY);
  const pageFiles = new Set(readdirSync(pageDirectory).filter((f) => !f.startsWith('.') && PAGE_TYPES[extname(f)] !== undefined && statSync(join(pageDirectory, f)).isFile()));
  if (!pageFiles.has('index.html')) throw new WebEditorUnavailableError(`the web editor's page is missing: ${join(pageDirectory, 'index.html')}`);
  const packages = browserPackages(options.from ?? PACKAGE_ROOT);
  const imports = buildImportMap(packages);
  const typeCache = new Map<string, boolean>();
  const wrapped = new Map<string, { mtimeMs: number; body: Buffer }>();

  const importMapJson = JSON.stringify({ imports }, null, 2).replace(/</g, '\\u003c');
  const importMapHash = createHash('sha256').update(importMapJson).digest('base64');
  // Scripts only from here (and the import map by its hash); the WebSocket to this same host and port.
  const csp = `default-src 'self'; script-src 'self' 'sha256-${importMapHash}'; connect-src 'self'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;

  /** Which package a path under /modules/ names, and the file inside its served directory. */
  function resolveModule(segments: string[]): RequestedPath {
    const nameLength = segments[0]!.startsWith('@') ? 2 : 1;
    const name = segments.slice(0, nameLength).join('/');
    const pkg = packages.get(name);
    if (!pkg) return { kind: 'refused', status: 404, reason: `${name} is not served` };
    const rest = segments.slice(nameLength);
    if (rest.length === 0) return { kind: 'refused', status: 404, reason: 'a directory' };
    // Nested packages are separate packages, served (if at all) under their own name.
    if (rest.includes('node_modules')) return { kind: 'refused', status: 404, reason: 'nested node_modules' };
    if (MODULE_TYPES[extname(rest[rest.length - 1]!)] === undefined) return { kind: 'refused', status: 404, reason: 'not a module file' };
    const candidate = resolve(pkg.root, ...rest);
    if (!inside(pkg.root, candidate)) return { kind: 'refused', status: 404, reason: 'outside the package' };
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      return { kind: 'refused', status: 404, reason: 'no such file' };
    }
    // A symbolic link must not lead out of the served directory.
    if (!inside(pkg.root, real) || !statSync(real).isFile()) return { kind: 'refused', status: 404, reason: 'outside the package' };
    return { kind: 'module', pkg, file: real };
  }

  /** Classifies a request path; only what this returns as page or module is ever read. */
  function classify(rawUrl: string): RequestedPath {
    const path = rawUrl.split(/[?#]/, 1)[0]!;
    if (path === '/' || path === '/index.html') return { kind: 'page', file: join(pageDirectory, 'index.html') };
    const isModule = path.startsWith(MODULES);
    if (!isModule) {
      const name = path.slice(1);
      return pageFiles.has(name) ? { kind: 'page', file: join(pageDirectory, name) } : { kind: 'other' };
    }
    const raw = path.slice(MODULES.length).split('/');
    const segments: string[] = [];
    for (const r of raw) {
      let s: string;
      try {
        s = decodeURIComponent(r);
      } catch {
        return { kind: 'refused', status: 400, reason: 'bad percent-encoding' };
      }
      // No empty segments (an absolute path or //), no dot segments, nothing that is a separator
      // once decoded, no NUL: a path either names a file inside a package plainly or is refused.
      if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)) return { kind: 'refused', status: 400, reason: 'not a plain path' };
      segments.push(s);
    }
    return resolveModule(segments);
  }

  /** The body of a module file: as it is, or wrapped if it is CommonJS. */
  function moduleBody(pkg: ServedPackage, file: string): Buffer {
    const source = readFileSync(file);
    if (extname(file) === '.map' || !isCommonJs(file, pkg.dir, typeCache)) return source;
    const mtimeMs = statSync(file).mtimeMs;
    const cached = wrapped.get(file);
    if (cached && cached.mtimeMs === mtimeMs) return cached.body;
    const body = Buffer.from(wrapCommonJs(pkg, file, source.toString('utf8')));
    wrapped.set(file, { mtimeMs, body });
    return body;
  }

  /** The file and kind a require() of `spec` from `file` would load, if it is served. */
  function requireTarget(pkg: ServedPackage, file: string, spec: string): { url: string; commonJs: boolean } | undefined {
    let target: string | undefined;
    let owner: ServedPackage | undefined = pkg;
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const base = resolve(dirname(file), spec);
      target = [base, base + '.js', join(base, 'index.js')].find((f) => existsSync(f) && statSync(f).isFile());
    } else {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      owner = packages.get(name);
      if (!owner) return undefined;
      const sub = spec.slice(name.length + 1);
      if (sub === '') target = owner.entry;
      else if (owner.root === owner.dir) {
        const base = resolve(owner.root, sub);
        target = [base, base + '.js', join(base, 'index.js')].find((f) => existsSync(f) && statSync(f).isFile());
      }
    }
    if (!target || !owner) return undefined;
    const real = realpathSync(target);
    if (!inside(owner.root, real) || MODULE_TYPES[extname(real)] === undefined) return undefined;
    return { url: urlOf(owner, real), commonJs: isCommonJs(real, owner.dir, typeCache) };
  }

  /**
   * A CommonJS file as an ES module: its require() calls with literal specifiers become static
   * imports (a CommonJS target's default export is its module.exports, an ES module comes as
   * its namespace), the source runs unchanged in a function of (exports, require, module,
   * __filename, __dirname), and module.exports is the default export. Named exports, which ES
   * modules import from CommonJS ones ({ EventEmitter } from "events", { escapeXML } from
   * "ltx/lib/escape.js"), are the enumerable keys of module.exports as Node's require() gives
   * them here: that runs the file's top level once in tandemd, as its own imports already do
   * for most of these packages. A require() of something not served throws when called, which is
   * what optional requires inside try/catch expect.
   */
  function wrapCommonJs(pkg: ServedPackage, file: string, source: string): string {
    const specs = [...new Set([...source.matchAll(/\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g)].map((m) => m[2]!))];
    const imports: string[] = [];
    const table: string[] = [];
    specs.forEach((spec, i) => {
      const target = requireTarget(pkg, file, spec);
      if (!target) return;
      imports.push(target.commonJs ? `import __r${i} from ${JSON.stringify(target.url)};` : `import * as __r${i} from ${JSON.stringify(target.url)};`);
      table.push(`[${JSON.stringify(spec)}, __r${i}]`);
    });
    let names: string[] = [];
    try {
      const exported: unknown = createRequire(file)(file);
      if (exported !== null && (typeof exported === 'object' || typeof exported === 'function')) {
        names = Object.keys(exported).filter((k) => k !== 'default' && IDENTIFIER_NAME.test(k));
      }
    } catch {
      names = [];
    }
    const url = urlOf(pkg, file);
    return [
      `// ${url}: CommonJS, wrapped as an ES module by tandemd's web editor.`,
      ...imports,
      `const __required = new Map([${table.join(', ')}]);`,
      'const module = { exports: {} };',
      "const require = (id) => { if (__required.has(id)) return __required.get(id); throw new Error(`Cannot find module '${id}' in the browser`); };",
      '(function (exports, require, module, __filename, __dirname) {',
      source.replace(/^#!.*/, ''),
      `}).call(module.exports, module.exports, require, module, ${JSON.stringify(url)}, ${JSON.stringify(url.slice(0, url.lastIndexOf('/')))});`,
      'const __exports = module.exports;',
      'export default __exports;',
      ...names.map((n, i) => `const __e${i} = __exports[${JSON.stringify(n)}];`),
      names.length ? `export { ${names.map((n, i) => `__e${i} as ${n}`).join(', ')} };` : '',
      '',
    ].join('\n');
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(bytes.length),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  return {
    importMap: { imports },
    packages: new Map([...packages.values()].map((p) => [p.name, p.root])),
    handle(req, res) {
      const target = classify(req.url ?? '/');
      if (target.kind === 'other') return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(req, res, 405, 'text/plain; charset=utf-8', 'tandemd: the web editor is read-only (GET, HEAD)\n', { allow: 'GET, HEAD' });
        return true;
      }
      if (target.kind === 'refused') {
        send(req, res, target.status, 'text/plain; charset=utf-8', target.status === 400 ? 'Bad Request\n' : 'Not Found\n');
        return true;
      }
      try {
        if (target.kind === 'page') {
          const ext = extname(target.file);
          let body: Buffer | string = readFileSync(target.file);
          if (ext === '.html') {
            body = body.toString('utf8').replace('<script type="importmap"></script>', `<script type="importmap">${importMapJson}</script>`);
          }
          send(req, res, 200, PAGE_TYPES[ext]!, body, ext === '.html' ? { 'content-security-policy': csp } : {});
        } else {
          // Public package code: pages of other origins may import it too (no credentials involved).
          send(req, res, 200, MODULE_TYPES[extname(target.file)]!, moduleBody(target.pkg, target.file), { 'access-control-allow-origin': '*' });
        }
      } catch {
        // Removed or unreadable since the check: the same answer as a file that never was.
        send(req, res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      }
      return true;
    },
  };
}
