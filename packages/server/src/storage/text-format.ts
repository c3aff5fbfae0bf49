/**
 * `*.InfText` files (inf_text_filesystem_format_read/_write): the users that author the current
 * buffer and the buffer as author runs. Status, carets, state vectors and history are not
 * stored, so a loaded document starts from the zero vector with every user unavailable.
 */
import { userTableOrder } from '@tandem/adopted';
import { Element, ErrorCodes, InfError, parseDouble, readText, requireAttr, uintAttr } from '@tandem/protocol';
import { formatDouble } from './double.js';
import { el, serializeFile, textEl } from './xml-file.js';

const FORMAT = ErrorCodes.INF_TEXT_FILESYSTEM_FORMAT_ERROR;

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
  // inf_text_filesystem_format_write visits the user table in its order.
  const users = userTableOrder(doc.users.filter((u) => authors.has(u.id)));
  const root = el('inf-text-session', [], [
    ...users.map((u) => el('user', [['id', String(u.id)], ['name', u.name], ['hue', formatDouble(u.hue)]])),
    el('buffer', [], runs.map((r) => textEl('segment', [['author', String(r.author)]], r.text))),
  ]);
  return serializeFile(root);
}

/** The prefix libinfinity gives every error about a stored note's content. */
function inFile(where: string, err: unknown): unknown {
  return err instanceof InfError ? new InfError(err.domain, err.code, `Error processing file "${where}": ${err.message}`) : err;
}

/**
 * A segment's text (inf_xml_util_get_child_text: text, and `<uchar codepoint>` read as a number
 * with its errors; other elements are skipped). When the only text is exactly the indentation
 * libxml2 puts around element-only content at the segment's depth (inf-text-session > buffer >
 * segment) and every element is a `<uchar/>`, the white space is formatting that infinoted
 * 0.7.2 wrote around control characters (xml-file.ts textEl), not content, and is dropped.
 */
function segmentText(seg: Element): string {
  const inner = '\n      ';
  const last = '\n    ';
  const c = seg.children;
  let formatted = c.length >= 3 && c.length % 2 === 1 && c[c.length - 1] === last;
  for (let i = 0; formatted && i < c.length - 1; i++) {
    const x = c[i]!;
    formatted = i % 2 === 0 ? x === inner : typeof x !== 'string' && x.name === 'uchar';
  }
  if (!formatted) return readText(seg);
  const bare = new Element(seg.name, seg.attrs);
  bare.children = c.filter((x) => typeof x !== 'string');
  return readText(bare);
}

/**
 * inf_text_filesystem_format_read: `where` is the note's path in the directory, which errors
 * name as infinoted's do ("Error processing file "/a/b": ..."), with libinfinity's domains and
 * codes. Where infinoted aborts (a user id 0, a second <buffer>), tandemd refuses the id and
 * reads the buffers one after the other (docs/server.md).
 */
export function decodeTextDocument(root: Element, where: string): StoredTextDocument {
  if (root.name !== 'inf-text-session') {
    throw new InfError('INF_TEXT_FILESYSTEM_FORMAT_ERROR', FORMAT.NOT_A_TEXT_SESSION, `Error processing file "${where}": The document is not a text session`);
  }
  const users: StoredUser[] = [];
  const segments: StoredSegment[] = [];
  try {
    for (const child of root.children) {
      if (typeof child === 'string') continue;
      if (child.name === 'user') {
        const id = uintAttr(child, 'id');
        const read = parseDouble('hue', requireAttr(child, 'hue'));
        const name = requireAttr(child, 'name');
        // User ids start at 1: libinfinity asserts on 0 (infinoted aborts), every client too.
        if (id === 0) throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.INVALID_NUMBER, "Attribute 'id' must not be 0");
        if (users.some((u) => u.id === id)) throw new InfError('INF_TEXT_FILESYSTEM_FORMAT_ERROR', FORMAT.USER_EXISTS, `User with ID ${id} exists already`);
        if (users.some((u) => u.name === name)) throw new InfError('INF_TEXT_FILESYSTEM_FORMAT_ERROR', FORMAT.USER_EXISTS, `User with name "${name}" exists already`);
        // GObject refuses a hue outside [0, 1] (NaN included) with a warning: the user keeps 0.
        users.push({ id, name, hue: read >= 0 && read <= 1 ? read : 0 });
      } else if (child.name === 'buffer') {
        for (const seg of child.children) {
          if (typeof seg === 'string' || seg.name !== 'segment') continue;
          const author = uintAttr(seg, 'author');
          if (author !== 0 && !users.some((u) => u.id === author)) {
            throw new InfError('INF_NOTE_PLUGIN_TEXT_ERROR', ErrorCodes.INF_NOTE_PLUGIN_TEXT_ERROR.NO_SUCH_USER, `User with ID "${author}" does not exist`);
          }
          const text = segmentText(seg);
          if (text !== '') segments.push({ author, text });
        }
      }
    }
  } catch (err) {
    throw inFile(where, err);
  }
  return { users, segments };
}

/** `*.InfChat`: messages are not persisted (infd_chat_filesystem_format_write). */
export function encodeChatDocument(): string {
  return serializeFile(el('inf-chat-session'));
}

/** infd_chat_filesystem_format_read: only the root element is checked. */
export function decodeChatDocument(root: Element, where: string): void {
  if (root.name !== 'inf-chat-session') {
    throw new InfError('INFD_CHAT_FILESYSTEM_FORMAT_ERROR', ErrorCodes.INFD_CHAT_FILESYSTEM_FORMAT_ERROR.NOT_A_CHAT_SESSION,
      `Error processing file "${where}": The document is not a chat session`);
  }
}
