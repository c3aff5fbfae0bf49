/** Storage files are parsed with the protocol package's XML reader (the server parses no XML itself). */
import { parseXmlDocument } from '@tandem/protocol';
import { type ReadElement, StorageFormatError } from './read-element.js';

/** Documents can be far larger than one network stanza; nesting stays shallow. */
const FILE_LIMITS = { maxElementBytes: 1024 * 1024 * 1024, maxDepth: 32 };

export function parseStoredXml(text: string, what: string): ReadElement {
  try {
    return parseXmlDocument(text, FILE_LIMITS) as unknown as ReadElement;
  } catch (err) {
    throw new StorageFormatError(`Error parsing XML in file "${what}": ${(err as Error).message}`);
  }
}
