// The effective-permission walk and set-acl merging (acl/sheets.ts) against protocol.md §3.11.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AclSheet } from '@tandem/protocol';
import { AccountStore } from '../src/accounts/account-store.js';
import { defaultRootPerms, effectivePerms, mergeSheets, resolvePermission, visibleSheets, withoutRootOnly, fromStored, toStored } from '../src/acl/sheets.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';

const root: AclSheet[] = [{ account: 'default', perms: defaultRootPerms() }];

describe('ACL permission walk', () => {
  it('takes the root default sheet when no node below says anything', () => {
    expect(resolvePermission([[], [], root], 'default', 'can-add-document')).to.equal(true);
    expect(resolvePermission([[], root], 'fs:user:dave', 'can-set-acl')).to.equal(false);
  });

  it('lets the nearest default sheet win over the ones above it (inheritance towards the root)', () => {
    const dir: AclSheet[] = [{ account: 'default', perms: { 'can-add-subdirectory': false } }];
    const sub: AclSheet[] = [{ account: 'default', perms: { 'can-add-subdirectory': true } }];
    expect(resolvePermission([[], dir, root], 'default', 'can-add-subdirectory')).to.equal(false);
    expect(resolvePermission([sub, dir, root], 'default', 'can-add-subdirectory')).to.equal(true);
    // Settings the node's sheet does not define come from further up.
    expect(resolvePermission([[], dir, root], 'default', 'can-add-document')).to.equal(true);
  });

  it("prefers the account's own sheet over the default sheet at the same node", () => {
    const dir: AclSheet[] = [
      { account: 'default', perms: { 'can-remove-node': false } },
      { account: 'fs:user:dave', perms: { 'can-remove-node': true } },
    ];
    expect(resolvePermission([dir, root], 'fs:user:dave', 'can-remove-node')).to.equal(true);
    expect(resolvePermission([dir, root], 'fs:user:erin', 'can-remove-node')).to.equal(false);
  });

  it("lets a node's default sheet override the account's own sheet higher up", () => {
    const top: AclSheet[] = [...root, { account: 'fs:user:dave', perms: { 'can-join-user': true } }];
    const dir: AclSheet[] = [{ account: 'default', perms: { 'can-join-user': false } }];
    expect(resolvePermission([dir, top], 'fs:user:dave', 'can-join-user')).to.equal(false);
  });

  it('evaluates root-only settings on the root alone', () => {
    const dir: AclSheet[] = [{ account: 'default', perms: { 'can-query-account-list': true, 'can-subscribe-chat': false } }];
    expect(resolvePermission([dir, root], 'default', 'can-query-account-list')).to.equal(false);
    expect(resolvePermission([dir, root], 'default', 'can-subscribe-chat')).to.equal(true);
    expect(withoutRootOnly(dir)[0]!.perms).to.deep.equal({});
  });

  it('denies a setting nobody defines', () => {
    expect(resolvePermission([[], []], 'default', 'can-explore-node')).to.equal(false);
    expect(effectivePerms([root], 'default')['can-query-acl']).to.equal(false);
  });
});

describe('ACL sheet sets', () => {
  it('replaces the sheet of each account named in set-acl and deletes sheets with an empty mask', () => {
    const before: AclSheet[] = [
      { account: 'default', perms: { 'can-remove-node': false, 'can-join-user': true } },
      { account: 'fs:user:dave', perms: { 'can-join-user': false } },
    ];
    const after = mergeSheets(before, [
      { account: 'default', perms: { 'can-add-document': true } },
      { account: 'fs:user:dave', perms: {} },
      { account: 'fs:user:erin', perms: { 'can-explore-node': false } },
    ]);
    expect(after).to.deep.equal([
      { account: 'default', perms: { 'can-add-document': true } },
      { account: 'fs:user:erin', perms: { 'can-explore-node': false } },
    ]);
  });

  it('shows a connection only the default and its own sheet until it queried the ACL', () => {
    const sheets: AclSheet[] = [
      { account: 'default', perms: { 'can-join-user': true } },
      { account: 'fs:user:dave', perms: { 'can-join-user': false } },
      { account: 'fs:user:erin', perms: { 'can-join-user': false } },
    ];
    expect(visibleSheets(sheets, 'fs:user:dave', false).map((s) => s.account)).to.deep.equal(['default', 'fs:user:dave']);
    expect(visibleSheets(sheets, 'default', true)).to.have.length(3);
  });
});

describe('ACL and account persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-acl-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips sheets through a node's .xml.acl file in infinoted's format", async () => {
    const storage = new FilesystemStorage(dir);
    await storage.createSubdirectory(['d']);
    const sheets: AclSheet[] = [
      { account: 'default', perms: { 'can-add-subdirectory': false } },
      { account: 'fs:user:dave', perms: { 'can-explore-node': true, 'can-join-user': false } },
    ];
    await storage.writeAcl(['d'], toStored(sheets));
    expect(await readFile(join(dir, 'd.xml.acl'), 'utf8')).to.equal('<?xml version="1.0"?>\n<inf-acl>\n  <sheet account="default" can-add-subdirectory="no"/>\n  <sheet account="fs:user:dave" can-explore-node="yes" can-join-user="no"/>\n</inf-acl>\n');
    expect(fromStored(await storage.readAcl(['d']))).to.deep.equal(sheets);
  });

  it('persists created and removed accounts in accounts.xml and reads a hand-written file', async () => {
    await writeFile(join(dir, 'accounts.xml'), '<?xml version="1.0"?>\n<inf-acl-account-list><account id="fs:user:dave" name="dave"><certificate>CN=dave</certificate></account></inf-acl-account-list>\n');
    const storage = new FilesystemStorage(dir);
    const a = new AccountStore(storage);
    await a.load();
    expect(a.list()).to.deep.equal([{ id: 'fs:user:dave', name: 'dave' }]);
    const carol = await a.add('carol', 'CN=carol');
    expect(carol.id).to.match(/^fs:user:carol:[0-9a-f]+$/);
    expect(await a.remove('fs:user:dave')).to.equal(true);
    expect(await a.remove('fs:user:dave')).to.equal(false);
    const again = new AccountStore(storage);
    await again.load();
    expect(again.list()).to.deep.equal([carol]);
    expect(await readFile(join(dir, 'accounts.xml'), 'utf8')).to.contain('<certificate>CN=carol</certificate>');
    // infinoted lists transient accounts before stored ones, and looks a transient id up at once
    // but stored ids after everything else (test/interop/server-acl.test.ts compares it live).
    const su = again.addTransient('Super User', 'CN=su');
    expect(again.list()).to.deep.equal([su, carol]);
    expect(again.lookup([
      { by: 'id', value: carol.id }, { by: 'id', value: su.id }, { by: 'name', value: 'carol' }, { by: 'name', value: 'Super User' },
      { by: 'id', value: 'default' }, { by: 'name', value: '' }, { by: 'name', value: undefined }, { by: 'id', value: 'nope' },
    ])).to.deep.equal([su, carol, su, carol]);
  });
});
