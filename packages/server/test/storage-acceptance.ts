/**
 * The acceptance suite every storage backend runs (as sharedb's test/db.js does for databases).
 */
import { expect } from 'chai';
import type { Storage } from '../src/storage/types.js';

export function storageAcceptance(name: string, make: () => Promise<{ storage: Storage; cleanup(): Promise<void> }>): void {
  describe(`storage backend: ${name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ storage, cleanup } = await make()));
    afterEach(async () => cleanup());

    it('lists subdirectories and notes it created, and nothing else', async () => {
      await storage.createSubdirectory(['dir']);
      await storage.writeText(['doc'], { users: [], segments: [] });
      await storage.writeChat(['room']);
      const list = (await storage.list([])).sort((a, b) => a.name.localeCompare(b.name));
      expect(list).to.deep.equal([{ name: 'dir', type: 'InfSubdirectory' }, { name: 'doc', type: 'InfText' }, { name: 'room', type: 'InfChat' }]);
      expect(await storage.list(['dir'])).to.deep.equal([]);
    });

    it('stores non-ASCII names and text with emoji and control characters exactly', async () => {
      await storage.createSubdirectory(['café']);
      const doc = { users: [{ id: 1, name: 'zoë', hue: 0.5 }], segments: [{ author: 1, text: 'a😀\u0007\r\nz' }] };
      await storage.writeText(['café', 'naïve'], doc);
      expect(await storage.list(['café'])).to.deep.equal([{ name: 'naïve', type: 'InfText' }]);
      expect(await storage.readText(['café', 'naïve'])).to.deep.equal(doc);
    });

    it('replaces a document on write and removes notes and whole subtrees', async () => {
      await storage.createSubdirectory(['d']);
      await storage.createSubdirectory(['d', 'e']);
      await storage.writeText(['d', 'e', 'x'], { users: [], segments: [{ author: 0, text: 'one' }] });
      await storage.writeText(['d', 'e', 'x'], { users: [], segments: [{ author: 0, text: 'two' }] });
      expect((await storage.readText(['d', 'e', 'x'])).segments).to.deep.equal([{ author: 0, text: 'two' }]);
      await storage.writeText(['n'], { users: [], segments: [] });
      await storage.remove(['n'], 'InfText');
      await storage.remove(['d'], 'InfSubdirectory');
      expect(await storage.list([])).to.deep.equal([]);
    });

    it('keeps ACL sheets and accounts', async () => {
      await storage.writeText(['n'], { users: [], segments: [] });
      await storage.writeAcl(['n'], [{ account: 'default', settings: { 'can-join-user': false } }]);
      expect(await storage.readAcl(['n'])).to.deep.equal([{ account: 'default', settings: { 'can-join-user': false } }]);
      expect(await storage.readAcl([])).to.deep.equal([]);
      const accounts = [{ id: 'fs:user:dave', name: 'dave', extra: [['first-seen', '1700000000.5']] as [string, string][], certificates: [] }];
      await storage.writeAccounts(accounts);
      expect(await storage.readAccounts()).to.deep.equal(accounts);
      expect((await storage.list([])).map((e) => e.name)).to.deep.equal(['n']);
    });

    it('refuses path components that could escape the root', async () => {
      for (const bad of ['..', '.', '', 'a/b']) {
        let failed = false;
        await storage.readText([bad]).catch(() => (failed = true));
        expect(failed, bad).to.equal(true);
      }
    });
  });
}
