import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdoptedSession, type BufferChange } from '@tandem/adopted';
import { DocumentJournal, contentHash, recoverFromJournal } from '../src/storage/journal.js';
import type { StoredTextDocument } from '../src/storage/text-format.js';

/** Changes as the engine reports them, made by local edits on a real engine. */
function engineWith(doc: StoredTextDocument): AdoptedSession {
  return new AdoptedSession({ segments: doc.segments, users: [{ id: 1, local: true }, { id: 2, local: true }] });
}

const stored = (e: AdoptedSession, users = [{ id: 1, name: 'alice', hue: 0.25 }, { id: 2, name: 'bob', hue: 0.5 }]): StoredTextDocument => ({ users, segments: e.segments() });

describe('crash journal', () => {
  let dir: string;
  let file: string;
  const opts = { fsyncMs: 0, log: () => undefined };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-journal-'));
    file = join(dir, 'doc.InfText.journal');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const base: StoredTextDocument = { users: [], segments: [{ author: 0, text: 'héllo\n' }] };
  const users = () => [{ id: 1, name: 'alice', hue: 0.25 }, { id: 2, name: 'bob', hue: 0.5 }];

  it('replays inserts (emoji, combining marks, controls) and deletes onto the stored document with their authors', () => {
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    const record = (c: BufferChange[]): void => j.changes(c);
    record(e.localInsert(1, 0, '😀e\u0301\u0007').changes);
    record(e.localInsert(2, 5, '👍🏽<&>').changes);
    record(e.localDelete(1, 2, 3).changes);
    record(e.localUndo(1).changes); // gives back the erased text with its original authors
    j.close();
    const r = recoverFromJournal(file, base)!;
    expect(r.orphaned).to.equal(undefined);
    expect(r.applied).to.equal(4);
    expect(r.doc.segments).to.deep.equal(e.segments());
    expect(r.doc.users.map((u) => u.name).sort()).to.deep.equal(['alice', 'bob']);
  });

  it('returns nothing without a journal and ignores a torn last line', () => {
    expect(recoverFromJournal(file, base)).to.equal(undefined);
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    j.changes(e.localInsert(1, 0, 'ab').changes);
    j.close();
    appendFileSync(file, '{"i":[0,[[1,"tor');
    const r = recoverFromJournal(file, base)!;
    expect(r.doc.segments.map((s) => s.text).join('')).to.equal('abhéllo\n');
  });

  it('starts after the checkpoint of a save that reached the disk, and before one that did not', () => {
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    j.changes(e.localInsert(1, 0, 'one ').changes);
    const atSave = stored(e);
    j.checkpoint(atSave); // the save begins; the process dies before `saved`
    j.changes(e.localInsert(2, 0, 'two ').changes);
    j.close();
    const want = e.segments();
    // The file on disk is either the old document (write not finished) or the saved one.
    expect(recoverFromJournal(file, base)!.doc.segments).to.deep.equal(want);
    writeFileSync(file, readFileSync(file)); // unchanged journal, second reading
    expect(recoverFromJournal(file, atSave)!.doc.segments).to.deep.equal(want);
  });

  it('cuts the journal down to what follows a completed save and removes it when nothing does', () => {
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    j.changes(e.localInsert(1, 0, 'one ').changes);
    const first = stored(e);
    const cp1 = j.checkpoint(first);
    j.changes(e.localInsert(2, 0, 'two ').changes);
    j.saved(cp1);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).to.deep.equal({ journal: 1, base: contentHash(first.segments) });
    expect(lines.filter((l) => l.i)).to.have.length(1);
    expect(recoverFromJournal(file, first)!.doc.segments).to.deep.equal(e.segments());
    // Appending still works after the cut, and a save of the latest state removes the file.
    j.changes(e.localDelete(1, 0, 2).changes);
    const second = stored(e);
    j.saved(j.checkpoint(second));
    expect(existsSync(file)).to.equal(false);
    // The next edit starts a new file from the saved state.
    j.changes(e.localInsert(1, 0, 'x').changes);
    j.close();
    expect(recoverFromJournal(file, second)!.doc.segments).to.deep.equal(e.segments());
  });

  it('stops, without throwing, when a record cannot be written, asks for a save, and starts afresh after it', () => {
    const lines: string[] = [];
    let saves = 0;
    mkdirSync(file); // open(2) of the journal fails: EISDIR, as a full disk or a read-only directory would
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), { fsyncMs: 0, log: (l) => void lines.push(l), tooLong: () => void saves++ }, users);
    j.changes(e.localInsert(1, 0, 'one ').changes);
    expect(j.writing).to.equal(false);
    expect(saves).to.equal(1);
    expect(lines.some((l) => l.startsWith(`Journal ${file} cannot be written (`) && l.endsWith('edits of this document are in memory only until it is saved')), lines.join('\n')).to.equal(true);
    rmdirSync(file);
    // Nothing more is appended to a journal that lacks a record, even once the file could be written.
    j.changes(e.localInsert(2, 0, 'two ').changes);
    expect(existsSync(file)).to.equal(false);
    // A completed save holds everything: journaling resumes from it.
    const atSave = stored(e);
    j.saved(j.checkpoint(atSave));
    expect(j.writing).to.equal(true);
    j.changes(e.localInsert(1, 0, 'three ').changes);
    j.close();
    const lines2 = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines2[0]).to.deep.equal({ journal: 1, base: contentHash(atSave.segments) });
    expect(recoverFromJournal(file, atSave)!.doc.segments).to.deep.equal(e.segments());
    expect(e.segments().map((x) => x.text).join('')).to.equal('three two one héllo\n');
  });

  it('sets a journal aside that does not belong to the stored document, and applies nothing', () => {
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    j.changes(e.localInsert(1, 0, 'lost?').changes);
    j.close();
    const other: StoredTextDocument = { users: [], segments: [{ author: 0, text: 'edited by hand' }] };
    const r = recoverFromJournal(file, other, 1234)!;
    expect(r.applied).to.equal(0);
    expect(r.doc).to.equal(other);
    expect(r.orphaned).to.equal(`${file}.orphaned-1234`);
    expect(readdirSync(dir).sort()).to.deep.equal(['doc.InfText.journal.orphaned-1234']);
  });

  it('names every user of the session at the start of a file, so authors of later inserts are known', () => {
    const e = engineWith(base);
    const j = new DocumentJournal(file, contentHash(base.segments), opts, users);
    j.changes(e.localInsert(2, 0, 'B').changes);
    j.close();
    const r = recoverFromJournal(file, base)!;
    expect(r.doc.users.find((u) => u.id === 2)).to.deep.equal({ id: 2, name: 'bob', hue: 0.5 });
  });
});
