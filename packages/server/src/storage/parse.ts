/**
 * Storage files are parsed with the protocol package's XML reader (the server parses no XML
 * itself). A stored document that is not well-formed is refused as infinoted refuses it.
 */
import { isUtf8 } from 'node:buffer';
import { type Element, InfError, XmlError, parseXmlDocument } from '@tandem/protocol';
import { libxml2Failure } from './libxml2-errors.js';
import { type ReadElement, StorageFormatError } from './read-element.js';

/** Documents can be far larger than one network stanza; nesting stays shallow. */
const FILE_LIMITS = { maxElementBytes: 1024 * 1024 * 1024, maxDepth: 32 };

/** ACL and account files. */
export function parseStoredXml(text: string, what: string): ReadElement {
  try {
    return parseXmlDocument(text, FILE_LIMITS) as unknown as ReadElement;
  } catch (err) {
    throw new StorageFormatError(`Error parsing XML in file "${what}": ${(err as Error).message}`);
  }
}

/**
 * A note's file (`*.InfText`, `*.InfChat`), read as infinoted reads it: UTF-8 whatever the XML
 * declaration says, CDATA sections left out of the text (libinfinity's child-text reader skips
 * them). `where` is the note's path in the directory ("/notes/todo"), which is what infinoted
 * names in its errors: a file that is not well-formed fails with LIBXML2_PARSER_ERROR,
 * `Error parsing XML in file "/notes/todo": [LINE]: MESSAGE` (libxml2-errors.ts).
 */
export function parseStoredNote(bytes: Buffer, where: string): Element {
  try {
    if (!isUtf8(bytes)) throw new XmlError('bad-format', 'Input is not proper UTF-8');
    return parseXmlDocument(bytes.toString('utf8'), FILE_LIMITS, 'ignore');
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    // A DOCTYPE (which libxml2 reads) is refused on purpose (docs/server.md); anything else is
    // reported as libxml2 would, where libxml2-errors.ts knows how.
    const f = (err.condition !== 'restricted-xml' ? libxml2Failure(bytes) : undefined) ?? { code: 1, line: 1, message: `${err.message}\n` };
    throw new InfError('LIBXML2_PARSER_ERROR', f.code, `Error parsing XML in file "${where}": [${f.line}]: ${f.message}`);
  }
}
