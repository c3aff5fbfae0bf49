import { expect } from 'chai';
import { mkdtemp, opendir, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { storageAcceptance } from './storage-acceptance.js';

storageAcceptance('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tandem-fs-'));
  return { storage: new FilesystemStorage(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('filesystem storage layout', () => {
  let root: string;
  beforeEach(async () => (root = await mkdtemp(join(tmpdir(), 'tandem-fs-'))));
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('maps notes to NAME.Type files and ignores ACL files, temp files and non-Inf suffixes', async () => {
    await writeFile(join(root, 'doc.InfText'), '<?xml version="1.0"?>\n<inf-text-session>\n  <buffer/>\n</inf-text-session>\n');
    await writeFile(join(root, 'doc.xml.acl'), '<inf-acl/>');
    await writeFile(join(root, 'global-acl.xml'), '<inf-acl/>');
    await writeFile(join(root, 'notes.txt'), 'x');
    await writeFile(join(root, '.doc.InfText.1.ab.tmp'), 'x');
    await writeFile(join(root, 'odd.InfFoo'), 'x');
    await mkdir(join(root, 'sub'));
    const list = (await new FilesystemStorage(root).list([])).sort((a, b) => a.name.localeCompare(b.name));
    expect(list).to.deep.equal([{ name: 'doc', type: 'InfText' }, { name: 'odd', type: 'InfFoo' }, { name: 'sub', type: 'InfSubdirectory' }]);
  });

  it('lists no node for a file name that is not UTF-8, has a control character or no name before the type', async () => {
    await writeFile(join(root, 'ok.InfText'), '<inf-text-session/>');
    await writeFile(Buffer.concat([Buffer.from(`${root}/bad`), Buffer.from([0xff]), Buffer.from('.InfText')]), '<inf-text-session/>');
    await writeFile(join(root, '\u0001c.InfText'), '<inf-text-session/>');
    await writeFile(join(root, '.InfText'), '<inf-text-session/>');
    await writeFile(join(root, 'caf\u00e9.InfText'), '<inf-text-session/>');
    await writeFile(join(root, '..InfText'), '<inf-text-session/>');
    const list = (await new FilesystemStorage(root).list([])).sort((a, b) => a.name.localeCompare(b.name));
    expect(list).to.deep.equal([{ name: 'caf\u00e9', type: 'InfText' }, { name: 'ok', type: 'InfText' }]);
  });

  it('lists names of only white space and with DEL or C1 controls, as infinoted does, and opens them', async () => {
    for (const n of [' ', '\t', '\u00a0', 'a\u007f', 'b\u0085']) await writeFile(join(root, `${n}.InfText`), '<inf-text-session><buffer><segment author="0">x</segment></buffer></inf-text-session>');
    await mkdir(join(root, ' \u2028'));
    const s = new FilesystemStorage(root);
    const list = (await s.list([])).sort((a, b) => a.name.localeCompare(b.name));
    expect(list.map((e) => e.name).sort()).to.deep.equal([' ', ' \u2028', '\t', '\u00a0', 'a\u007f', 'b\u0085'].sort());
    expect((await s.readText([' '])).segments).to.deep.equal([{ author: 0, text: 'x' }]);
  });

  it('lists in the order the file system reads the directory, reversed (as infinoted\'s storage), not sorted', async () => {
    for (let i = 0; i < 30; i++) await writeFile(join(root, `n${(i * 7919) % 1000}.InfText`), '<inf-text-session/>');
    const raw: string[] = [];
    for await (const d of await opendir(root)) raw.push(d.name.replace(/\.InfText$/, ''));
    expect((await new FilesystemStorage(root).list([])).map((e) => e.name)).to.deep.equal(raw.reverse());
  });

  it('leaves no temporary file behind after a write and removes a note ACL with the note', async () => {
    const s = new FilesystemStorage(root);
    await s.writeText(['a'], { users: [], segments: [{ author: 0, text: 'x' }] });
    await s.writeAcl(['a'], [{ account: 'default', settings: { 'can-remove-node': false } }]);
    expect((await readdir(root)).sort()).to.deep.equal(['a.InfText', 'a.xml.acl']);
    expect(await readFile(join(root, 'a.xml.acl'), 'utf8')).to.equal('<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-remove-node="no"/>\n</inf-acl>\n');
    await s.remove(['a'], 'InfText');
    expect(await readdir(root)).to.deep.equal([]);
  });
});
