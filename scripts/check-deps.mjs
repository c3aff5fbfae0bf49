// Fails when a package imports against the dependency direction (adopted <- protocol <- server,
// client), imports a workspace package it does not declare, deep-imports another package's files,
// reaches into a sibling package with a relative path, or (adopted only) uses Node APIs.
// npm hoisting would let all of these compile, so tsc alone does not catch them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { builtinModules } from 'node:module';

const root = resolve(new URL('..', import.meta.url).pathname);
const allowed = {
  adopted: [],
  protocol: ['adopted'],
  server: ['adopted', 'protocol'],
  client: ['adopted', 'protocol'],
  conformance: ['adopted', 'protocol'],
};
const pure = new Set(['adopted']);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const importRe = /(?:^|[^\w.])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^\w.])import\s+['"]([^'"]+)['"]/gm;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

const problems = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  if (!(pkg in allowed)) { problems.push(`packages/${pkg}: unknown package, add it to scripts/check-deps.mjs`); continue; }
  const dir = join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }));
  for (const sub of ['src', 'test']) {
    let list;
    try { list = [...files(join(dir, sub))]; } catch { continue; }
    for (const file of list) {
      const rel = relative(root, file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (spec.startsWith('.')) {
          const target = resolve(join(file, '..'), spec);
          if (!target.startsWith(dir + sep)) problems.push(`${rel}: relative import "${spec}" leaves the package`);
          continue;
        }
        if (builtins.has(spec)) {
          if (pure.has(pkg) && sub === 'src') problems.push(`${rel}: "${spec}" is a Node API; @tandem/${pkg} must stay pure`);
          continue;
        }
        const scoped = spec.match(/^@tandem\/([^/]+)(\/.*)?$/);
        if (scoped) {
          const [, target, deep] = scoped;
          if (deep) problems.push(`${rel}: deep import "${spec}"; use the package index`);
          if (target === pkg) problems.push(`${rel}: imports its own package by name`);
          else if (!allowed[pkg].includes(target)) problems.push(`${rel}: @tandem/${pkg} may not import @tandem/${target}`);
          else if (!declared.has(`@tandem/${target}`)) problems.push(`${rel}: @tandem/${target} is not declared in package.json`);
          continue;
        }
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (sub === 'src' && !declared.has(name)) problems.push(`${rel}: "${name}" is not declared in package.json`);
      }
    }
  }
}
if (problems.length) {
  console.error(`dependency check: ${problems.length} problem(s)\n  ` + problems.join('\n  '));
  process.exit(1);
}
console.log('dependency check: ok');
