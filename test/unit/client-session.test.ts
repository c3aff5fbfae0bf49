// The client's sessions and TextDocument against an in-process tandemd (no real peers).
import { expect } from 'chai';
import { connect, type TandemClient, type TextChange, type TextDocument, type User } from '@tandem/client';
import { type InProcessTandemd, seededRandom, startInProcessTandemd, testSeed, until } from './client-tandemd.js';

describe('client sessions on an in-process tandemd', () => {
  let tandemd: InProcessTandemd;
  let clients: TandemClient[];

  beforeEach(async () => {
    tandemd = await startInProcessTandemd();
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await tandemd.close();
  });

  async function client(user: string): Promise<TandemClient> {
    const c = await connect({ host: '127.0.0.1', port: tandemd.port, tls: false, user, timeoutMs: 10000 });
    clients.push(c);
    return c;
  }

  async function editor(user: string, path = '/doc'): Promise<TextDocument> {
    return (await client(user)).open(path, { user, create: true });
  }

  /** What a fresh subscriber (who only watches) receives in the synchronisation. */
  async function freshView(path = '/doc'): Promise<TextDocument> {
    return (await client('reader')).open(path);
  }

  it('joins a document as a named user and sees itself among the users', async () => {
    const doc = await editor('alice');
    expect(doc.user?.name).to.equal('alice');
    expect(doc.user?.status).to.equal('active');
    expect(doc.users.map((u) => u.name)).to.deep.equal(['alice']);
    expect(doc.text).to.equal('');
  });

  it('inserts and deletes by string index while the wire counts code points (emoji, combining marks, control characters)', async () => {
    const doc = await editor('alice');
    await doc.insert(0, 'a😀b');
    expect(doc.characters).to.equal(3);
    // Index 3 is after the surrogate pair (UTF-16 units), code point 2 on the wire.
    await doc.insert(3, 'e\u0301\u0007');
    expect(doc.text).to.equal('a😀e\u0301\u0007b');
    // Deleting one unit inside the pair widens to the whole emoji.
    await doc.delete(2, 1);
    expect(doc.text).to.equal('ae\u0301\u0007b');
    await doc.insert(doc.text.length, '🎉!');
    const reader = await freshView();
    expect(reader.text).to.equal('ae\u0301\u0007b🎉!');
    expect(reader.characters).to.equal(7);
  });

  it('deletes a range that ends or starts inside a surrogate pair together with the whole pair', async () => {
    const doc = await editor('alice');
    await doc.insert(0, 'a😀b👍🏽c');
    // [1, 2) ends between the halves of 😀: the whole emoji goes, not nothing.
    await doc.delete(1, 1);
    expect(doc.text).to.equal('ab👍🏽c');
    // [3, 5) starts inside 👍 and ends inside 🏽: both code points go.
    await doc.delete(3, 2);
    expect(doc.text).to.equal('abc');
    // A combining mark and a control character are characters of their own.
    await doc.insert(1, 'e\u0301\u0007');
    await doc.delete(2, 2);
    expect(doc.text).to.equal('aebc');
    expect((await freshView()).text).to.equal('aebc');
  });

  it('replaces the text by a minimal edit so unchanged text keeps its authors', async () => {
    const alice = await editor('alice');
    await alice.insert(0, 'hello 🌍 world');
    const bob = await editor('bob');
    await bob.setText('hello brave 🌍 world!');
    const runs = (await freshView()).segments().map((s) => [s.author?.name, s.text]);
    expect(runs).to.deep.equal([
      ['alice', 'hello '],
      ['bob', 'brave '],
      ['alice', '🌍 world'],
      ['bob', '!'],
    ]);
    await until(() => alice.text === 'hello brave 🌍 world!', alice, 'change');
  });

  it('undoes and redoes only the local user\'s own change, and others see it', async () => {
    const alice = await editor('alice');
    expect(alice.canUndo()).to.equal(false);
    await alice.insert(0, 'abc');
    const bob = await editor('bob');
    await bob.insert(0, 'X');
    await until(() => alice.text === 'Xabc', alice, 'change');
    await alice.undo();
    expect(alice.text).to.equal('X');
    expect(alice.canRedo()).to.equal(true);
    await until(() => bob.text === 'X', bob, 'change');
    await alice.redo();
    expect(alice.text).to.equal('Xabc');
    await until(() => bob.text === 'Xabc', bob, 'change');
    expect((await freshView()).text).to.equal('Xabc');
  });

  it('reports remote changes with their author, in string indices, and with the deleted text', async () => {
    const alice = await editor('alice');
    await alice.insert(0, '😀ab');
    const bob = await editor('bob');
    const seen: TextChange[] = [];
    alice.on('change', (c) => seen.push(c));
    await bob.insert(3, 'Z');
    await bob.delete(0, 2);
    await until(() => seen.length === 2, alice, 'change');
    expect(seen[0]).to.deep.include({ kind: 'insert', index: 3, text: 'Z', local: false });
    expect(seen[0]!.author.name).to.equal('bob');
    expect(seen[1]).to.deep.include({ kind: 'delete', index: 0, length: 2, text: '😀', local: false });
    expect(seen[1]!.author.name).to.equal('bob');
    expect(alice.text).to.equal('aZb');
  });

  it('reports users joining and leaving', async () => {
    const alice = await editor('alice');
    const joined: User[] = [];
    const left: User[] = [];
    alice.on('user-joined', (u) => joined.push(u));
    alice.on('user-left', (u) => left.push(u));
    const bob = await editor('bob');
    await until(() => joined.length === 1, alice, 'user-joined');
    expect(joined[0]!.name).to.equal('bob');
    bob.close();
    await until(() => left.length === 1, alice, 'user-left');
    expect(left[0]).to.deep.include({ name: 'bob', status: 'unavailable' });
    expect(alice.users.find((u) => u.name === 'bob')?.status).to.equal('unavailable');
  });

  it('lets two clients edit concurrently at random and converge with the server and a fresh subscriber', async () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const a = await editor('alice');
    const b = await editor('bob');
    const alphabet = ['x', 'y', 'é', '😀', '\u0301', '\n'];
    for (let round = 0; round < 12; round++) {
      // Each round both send a burst without waiting for each other: the requests cross.
      const jobs: Promise<void>[] = [];
      for (const doc of [a, b]) {
        for (let k = 0; k < 1 + rand(4); k++) {
          const len = doc.text.length;
          if (len > 0 && rand(3) === 0) {
            const index = rand(len);
            jobs.push(doc.delete(index, Math.min(1 + rand(3), len - index)));
          } else {
            const text = Array.from({ length: 1 + rand(3) }, () => alphabet[rand(alphabet.length)]).join('');
            jobs.push(doc.insert(rand(len + 1), text));
          }
        }
      }
      await Promise.all(jobs);
    }
    await Promise.all([a.flush(), b.flush()]);
    await until(() => a.text === b.text, a, 'change').catch(() => until(() => a.text === b.text, b, 'change'));
    expect(a.text, `seed ${seed}`).to.equal(b.text);
    expect((await freshView()).text, `seed ${seed}`).to.equal(a.text);
  });
});
