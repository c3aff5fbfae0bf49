/**
 * What the server needs from a storage backend (libinfinity's InfdStorage interface, plus the
 * document formats). Paths are lists of node names from the root; names are already validated.
 * Every backend runs the same acceptance suite (test/storage-acceptance.ts).
 */
import type { AclSheet, StoredAccount } from './acl-format.js';
import type { StoredTextDocument } from './text-format.js';

export type NodePath = readonly string[];

/** 'InfSubdirectory' or a note type such as 'InfText' / 'InfChat'. */
export interface StorageEntry {
  name: string;
  type: string;
}

export class StorageError extends Error {
  /** INFD_FILESYSTEM_STORAGE_ERROR: 0 INVALID_PATH, 1 REMOVE_FILES, 2 INVALID_FORMAT, 3 FAILED */
  readonly domain = 'INFD_FILESYSTEM_STORAGE_ERROR';
  constructor(message: string, readonly code: 0 | 1 | 2 | 3 = 3) {
    super(message);
    this.name = 'StorageError';
  }
}

export interface Storage {
  /** Human-readable location, for logs. */
  readonly description: string;
  /** Children of a subdirectory, in listing order. */
  list(path: NodePath): Promise<StorageEntry[]>;
  createSubdirectory(path: NodePath): Promise<void>;
  readText(path: NodePath): Promise<StoredTextDocument>;
  /** Atomic: readers see the old or the new document. */
  writeText(path: NodePath, doc: StoredTextDocument): Promise<void>;
  /** Chat documents carry no content on disk (protocol.md §7.3). */
  writeChat(path: NodePath): Promise<void>;
  readChat(path: NodePath): Promise<void>;
  /** Removes a note (and its ACL) or a subdirectory recursively. */
  remove(path: NodePath, type: string): Promise<void>;
  /** ACL sheets of a node ([] when it has none); the root's live in global-acl.xml. */
  readAcl(path: NodePath): Promise<AclSheet[]>;
  writeAcl(path: NodePath, sheets: readonly AclSheet[]): Promise<void>;
  readAccounts(): Promise<StoredAccount[]>;
  /** Where the crash journal of a text note lives (storage/journal.ts); none: no journal. */
  journalFile?(path: NodePath): string;
  writeAccounts(accounts: readonly StoredAccount[]): Promise<void>;
}
