/**
 * Node names. infinoted refuses names with '/', names of only white space and names with
 * "non-printable characters" (infd_directory_node_is_name_available); its check runs per byte
 * and so wrongly refuses every non-ASCII name (protocol.md §10.2). tandemd checks characters:
 * non-ASCII is fine, control characters, '/', '.', '..' and the empty name are not.
 */

export type NameProblem = 'control' | 'whitespace' | 'slash' | 'dot';

/** The first problem in infinoted's order: non-printable, only spaces (the empty name too), '/'; then tandemd's '.' and '..'. */
export function nameProblem(name: string): NameProblem | undefined {
  // C0, DEL, C1, lone surrogates, and the non-characters XML cannot carry in an attribute.
  if (/[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|\p{Cs}/u.test(name)) return 'control';
  if (/^\s*$/u.test(name)) return 'whitespace';
  if (name.includes('/')) return 'slash';
  if (name === '.' || name === '..') return 'dot';
  return undefined;
}

/**
 * Whether a note or subdirectory found on disk under this name is listed. infinoted lists every
 * name it reads, a name of only white space or with DEL and C1 controls too (escaped in XML as
 * every server escapes them), but it fails a whole exploration on "." and "..", lists "" as a node
 * carrying its parent's ACL, and sends the other C0 controls and U+FFFE/U+FFFF raw, which no
 * client can parse: those are left out.
 */
export function isListableName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/u.test(name);
}

/** infinoted's messages (INF_DIRECTORY_ERROR 3), and tandemd's own for '.' and '..'. */
export function describeNameProblem(name: string, problem: NameProblem): string {
  switch (problem) {
    case 'control': return `Name "${name}" is an invalid name: contains non-printable characters`;
    case 'whitespace': return `Name "${name}" is an invalid name: contains only space characters`;
    case 'slash': return `Name "${name}" is an invalid name: contains "/"`;
    case 'dot': return `Name "${name}" is an invalid name: "." and ".." are reserved`;
  }
}

/**
 * Key under which names clash within a directory. libinfinity compares g_utf8_casefold +
 * g_utf8_collate_key, so "DOC1" and "doc1" are the same node name.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().normalize('NFC');
}
