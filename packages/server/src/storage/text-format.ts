/**
 * `*.InfText` files (inf_text_filesystem_format_read/_write): the users that author the current
 * buffer and the buffer as author runs. Status, carets, state vectors and history are not
 * stored, so a loaded document starts from the zero vector with every user unavailable.
 */
import { formatDouble } from './double.js';
import { type ReadElement, StorageFormatError, childElements, doubleAttr, formattedText, requiredAttr, uintAttr } from './read-element.js';
import { el, serializeFile, textEl } from './xml-file.js';

export interface StoredUser {
  id: number;
  name: string;
  hue: number;
}

export interface StoredSegment {
  /** 0 = no author */
  author: number;
  text: string;
}

export interface StoredTextDocument {
  users: StoredUser[];
  segments: StoredSegment[];
}

export function encodeTextDocument(doc: StoredTextDocument): string {
  // Merge adjacent runs of one author and drop empty ones: the buffer's runs are maximal.
  const runs: StoredSegment[] = [];
  for (const s of doc.segments) {
    if (s.text === '') continue;
    const last = runs[runs.length - 1];
    if (last && last.author === s.author) last.text += s.text;
    else runs.push({ ...s });
  }
  const authors = new Set(runs.map((r) => r.author));
  const users = doc.users.filter((u) => authors.has(u.id)).sort((a, b) => a.id - b.id);
  const root = el('inf-text-session', [], [
    ...users.map((u) => el('user', [['id', String(u.id)], ['name', u.name], ['hue', formatDouble(u.hue)]])),
    el('buffer', [], runs.map((r) => textEl('segment', [['author', String(r.author)]], r.text))),
  ]);
  return serializeFile(root);
}

export function decodeTextDocument(root: ReadElement): StoredTextDocument {
  if (root.name !== 'inf-text-session') {
    throw new StorageFormatError(`Unexpected root element "${root.name}", expected "inf-text-session"`);
  }
  const users: StoredUser[] = [];
  const segments: StoredSegment[] = [];
  for (const child of childElements(root)) {
    if (child.name === 'user') {
      const user = { id: uintAttr(child, 'id'), hue: doubleAttr(child, 'hue'), name: requiredAttr(child, 'name') };
      if (users.some((u) => u.id === user.id)) throw new StorageFormatError(`User with ID ${user.id} exists already`);
      if (users.some((u) => u.name === user.name)) throw new StorageFormatError(`User with name "${user.name}" exists already`);
      users.push(user);
    } else if (child.name === 'buffer') {
      for (const seg of childElements(child)) {
        if (seg.name !== 'segment') continue;
        const author = uintAttr(seg, 'author');
        if (author !== 0 && !users.some((u) => u.id === author)) {
          throw new StorageFormatError(`User with ID "${author}" does not exist`);
        }
        // A segment sits at depth 2 (inf-text-session > buffer > segment).
        const text = formattedText(seg, 2);
        if (text !== '') segments.push({ author, text });
      }
    }
  }
  return { users, segments };
}

/** `*.InfChat`: messages are not persisted (infd_chat_filesystem_format_write). */
export function encodeChatDocument(): string {
  return serializeFile(el('inf-chat-session'));
}

export function decodeChatDocument(root: ReadElement): void {
  if (root.name !== 'inf-chat-session') {
    throw new StorageFormatError(`Unexpected root element "${root.name}", expected "inf-chat-session"`);
  }
}
