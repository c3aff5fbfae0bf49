/**
 * The shape storage decoders read: a parsed element with its attributes and children (strings
 * for text). Parsed documents from @tandem/protocol's XML reader have this shape.
 */
export interface ReadElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: (ReadElement | string)[];
}

export class StorageFormatError extends Error {
  /** INFD_FILESYSTEM_STORAGE_ERROR 2 = INVALID_FORMAT */
  readonly domain = 'INFD_FILESYSTEM_STORAGE_ERROR';
  readonly code = 2;
  constructor(message: string) {
    super(message);
    this.name = 'StorageFormatError';
  }
}

export function childElements(e: ReadElement): ReadElement[] {
  return e.children.filter((c): c is ReadElement => typeof c !== 'string');
}

export function requiredAttr(e: ReadElement, name: string): string {
  const v = e.attrs[name];
  if (v === undefined) throw new StorageFormatError(`Element "${e.name}" lacks the required attribute "${name}"`);
  return v;
}
