/**
 * infinoted's on-disk layout (infd-filesystem-storage.c, protocol.md §7.1): node /a/b is the
 * directory ROOT/a/b or the file ROOT/a/b.<Type>; a node's ACL is ROOT/a/b.xml.acl, the root's
 * ROOT/global-acl.xml; accounts live in ROOT/accounts.xml. A root written by infinoted is served
 * as is, and infinoted can serve a root written here.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { type Dirent, constants } from 'node:fs';
import { lstat, mkdir, open, opendir, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type AclSheet, type StoredAccount, decodeAccounts, decodeAcl, encodeAccounts, encodeAcl } from './acl-format.js';
import { syncDirectory, writeFileAtomic } from './atomic.js';
import { fileError } from './file-errors.js';
import { JOURNAL_SUFFIX } from './journal.js';
import { isListableName } from './names.js';
import { parseStoredNote, parseStoredXml } from './parse.js';
import { type StoredTextDocument, decodeChatDocument, decodeTextDocument, encodeChatDocument, encodeTextDocument } from './text-format.js';
import { type NodePath, type Storage, type StorageEntry, StorageError } from './types.js';

/** A note's path as infinoted names it in errors: "/a/b". */
const nodePathText = (path: NodePath): string => `/${path.join('/')}`;

/** The longest file name (bytes) of the usual Linux file systems. */
const NAME_MAX = 255;

export class FilesystemStorage implements Storage {
  readonly description: string;

  constructor(readonly root: string) {
    this.description = root;
  }

  private fsPath(path: NodePath): string {
    for (const part of path) {
      // What the directory can hold: every name it lists from disk or lets a client create.
      if (!isListableName(part) || part.includes('/')) throw new StorageError(`The path contains the invalid component "${part}"`, 0);
    }
    return join(this.root, ...path);
  }

  private notePath(path: NodePath, type: string): string {
    if (path.length === 0) throw new StorageError('The root is not a note', 0);
    return `${this.fsPath(path)}.${type}`;
  }

  private aclPath(path: NodePath): string {
    return path.length === 0 ? join(this.root, 'global-acl.xml') : `${this.fsPath(path)}.xml.acl`;
  }

  /** Reads a file without following a symlink at its last component (infinoted opens with O_NOFOLLOW). */
  private async readFileNoFollow(file: string): Promise<Buffer> {
    const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /**
   * The notes and subdirectories of a directory, in the order infinoted's storage gives them: the
   * reverse of the order the file system reads them in (readdir(3), not sorted), so that the
   * directory lists them in reading order, as infinoted does.
   */
  async list(path: NodePath): Promise<StorageEntry[]> {
    const dir = this.fsPath(path);
    const entries: Dirent<Buffer>[] = [];
    try {
      // infinoted opens a subdirectory with O_NOFOLLOW: one that is a symbolic link (to anywhere,
      // outside the root too) is not listed but fails with ELOOP. The root may be a link.
      if (path.length > 0 && (await lstat(dir)).isSymbolicLink()) {
        throw Object.assign(new Error(`ELOOP: too many symbolic links encountered, opendir '${dir}'`), { code: 'ELOOP', errno: -40, syscall: 'opendir', path: dir });
      }
      // fs.readdir sorts the names (libuv's scandir); a Dir hands them out as readdir(3) does.
      // Names as bytes (a name that is not UTF-8 is no node): Node supports it, its types do not.
      const handle = await opendir(dir, { encoding: 'buffer' as BufferEncoding });
      for await (const d of handle) entries.push(d as unknown as Dirent<Buffer>);
    } catch (err) {
      // A failed system call goes up as it is: reported as infinoted reports it (G_FILE_ERROR).
      if (fileError(err)) throw err;
      throw new StorageError(`Could not open directory "${dir}": ${(err as Error).message}`);
    }
    entries.reverse();
    const out: StorageEntry[] = [];
    for (const d of entries) {
      // A file name that is not UTF-8 names no node (infinoted fails the whole exploration then,
      // with g_convert's error; the other entries are listed here).
      if (!isUtf8(d.name)) continue;
      const file = d.name.toString('utf8');
      if (d.isDirectory()) {
        if (isListableName(file)) out.push({ name: file, type: 'InfSubdirectory' });
      } else if (d.isFile()) {
        // The type is the text after the last '.', and only "Inf*" types are notes.
        const dot = file.lastIndexOf('.');
        const type = file.slice(dot + 1);
        const name = file.slice(0, dot);
        if (dot >= 0 && type.startsWith('Inf') && isListableName(name) && isListableName(type)) out.push({ name, type });
      }
    }
    return out;
  }

  async createSubdirectory(path: NodePath): Promise<void> {
    await mkdir(this.fsPath(path), { mode: 0o755 });
  }

  async ensureRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
  }

  /** A note's bytes; a directory where the note should be reads as nothing (libxml2: "Document is empty"). */
  private async readNote(path: NodePath, type: string): Promise<Buffer> {
    try {
      return await this.readFileNoFollow(this.notePath(path, type));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') return Buffer.alloc(0);
      throw err;
    }
  }

  async readText(path: NodePath): Promise<StoredTextDocument> {
    const where = nodePathText(path);
    return decodeTextDocument(parseStoredNote(await this.readNote(path, 'InfText'), where), where);
  }

  /**
   * `doc.InfText.journal`: its type would be "journal", so nobody lists it as a note (§7.1). A
   * document whose file name leaves no room for the suffix (file names have at most 255 bytes)
   * gets `.<hash of the name>.journal` beside it instead.
   */
  journalFile(path: NodePath): string {
    const note = this.notePath(path, 'InfText');
    if (Buffer.byteLength(basename(note)) + JOURNAL_SUFFIX.length <= NAME_MAX) return note + JOURNAL_SUFFIX;
    return join(dirname(note), `.${createHash('sha256').update(basename(note)).digest('hex').slice(0, 40)}${JOURNAL_SUFFIX}`);
  }

  async writeText(path: NodePath, doc: StoredTextDocument): Promise<void> {
    await writeFileAtomic(this.notePath(path, 'InfText'), encodeTextDocument(doc));
  }

  async readChat(path: NodePath): Promise<void> {
    const where = nodePathText(path);
    decodeChatDocument(parseStoredNote(await this.readNote(path, 'InfChat'), where), where);
  }

  async writeChat(path: NodePath): Promise<void> {
    await writeFileAtomic(this.notePath(path, 'InfChat'), encodeChatDocument());
  }

  async remove(path: NodePath, type: string): Promise<void> {
    if (path.length === 0) throw new StorageError('The root cannot be removed', 0);
    try {
      if (type === 'InfSubdirectory') await rm(this.fsPath(path), { recursive: true });
      else {
        // Whatever is there goes, a directory too (inf_file_util_delete).
        await rm(this.notePath(path, type), { recursive: true });
        if (type === 'InfText') await unlink(this.journalFile(path)).catch(() => undefined);
      }
      await unlink(this.aclPath(path)).catch(() => undefined);
    } catch (err) {
      if (fileError(err)) throw err;
      throw new StorageError(`Could not remove "/${path.join('/')}": ${(err as Error).message}`, 1);
    }
    await syncDirectory(this.fsPath(path.slice(0, -1)));
  }

  async readAcl(path: NodePath): Promise<AclSheet[]> {
    const file = this.aclPath(path);
    let text: string;
    try {
      text = (await this.readFileNoFollow(file)).toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return decodeAcl(parseStoredXml(text, file));
  }

  async writeAcl(path: NodePath, sheets: readonly AclSheet[]): Promise<void> {
    const file = this.aclPath(path);
    if (!sheets.some((s) => Object.keys(s.settings).length > 0)) {
      // A node without sheets has no file (infd_filesystem_storage_write_acl).
      await unlink(file).catch(() => undefined);
      return;
    }
    await writeFileAtomic(file, encodeAcl(sheets));
  }

  async readAccounts(): Promise<StoredAccount[]> {
    const file = join(this.root, 'accounts.xml');
    let text: string;
    try {
      text = (await this.readFileNoFollow(file)).toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return decodeAccounts(parseStoredXml(text, file));
  }

  async writeAccounts(accounts: readonly StoredAccount[]): Promise<void> {
    await writeFileAtomic(join(this.root, 'accounts.xml'), encodeAccounts(accounts));
  }
}
