// The client must load in a browser without a bundler: nothing that the index imports statically
// may be a Node API or a Node-only package. Node-only code (TCP, the pin store's files, the CLI)
// is loaded with import() when used. The real-browser test is test/interop/web-editor.test.ts;
// this one finds a new static import of node:* without a browser.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/client/dist/test -> packages/client/dist/src */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'` (not import('x')), in compiled JS. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'";]*?\s+from\s*)?['"]([^'"]+)['"]/gm;

function staticGraph(entry: string): { files: Set<string>; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else bare.set(spec, file.slice(SRC.length + 1));
    }
  };
  visit(entry);
  return { files, bare };
}

describe('@tandem/client in a browser', () => {
  const { files, bare } = staticGraph(resolve(SRC, 'index.js'));

  it('imports no Node API and no Node-only package statically from its index', () => {
    const allowed = ['@tandem/adopted', '@tandem/protocol', 'diff-match-patch'];
    const offending = [...bare].filter(([spec]) => !allowed.includes(spec)).map(([spec, file]) => `${file}: ${spec}`);
    expect(offending).to.deep.equal([]);
    expect([...bare.keys()]).to.include.members(allowed);
  });

  it('reaches the TCP transport, the pin store files and the CLI only through import()', () => {
    const names = [...files].map((f) => f.slice(SRC.length + 1));
    expect(names).to.include.members(['index.js', 'net/connection.js', 'net/transport.js', 'emitter.js', 'cli/lazy.js']);
    expect(names).to.not.include('net/tcp.js');
    expect(names).to.not.include('cli/main.js');
    expect(names.filter((n) => n.startsWith('cli/'))).to.deep.equal(['cli/lazy.js']);
  });
});
