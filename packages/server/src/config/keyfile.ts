/**
 * GLib key-file reader (the format of infinoted.conf): `[group]` headers, `key=value` lines,
 * `#` comments, backslash escapes in values and `;`-separated lists. Follows the rules of
 * GLib's g_key_file_load_from_data / g_key_file_get_string_list, which infinoted uses
 * (infinoted/infinoted-options.c, infinoted_options_read_config_into_keyfile).
 */

export class KeyFileError extends Error {
  constructor(message: string, readonly line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'KeyFileError';
  }
}

/** group -> key -> raw (still escaped) value; insertion order kept. */
export class KeyFile {
  private readonly groups = new Map<string, Map<string, string>>();

  static parse(text: string): KeyFile {
    const kf = new KeyFile();
    let group: Map<string, string> | undefined;
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    lines.forEach((raw, i) => {
      const lineNo = i + 1;
      const line = raw.replace(/^[ \t]+/, '');
      if (line === '' || line.startsWith('#')) return;
      if (line.startsWith('[')) {
        const m = /^\[([^\][\x00-\x1f]+)\][ \t]*$/.exec(line);
        if (!m) throw new KeyFileError(`invalid group header "${raw}"`, lineNo);
        group = kf.groups.get(m[1]!) ?? new Map();
        kf.groups.set(m[1]!, group);
        return;
      }
      const eq = line.indexOf('=');
      if (eq <= 0) throw new KeyFileError(`"${raw}" is not a group, key-value pair or comment`, lineNo);
      if (!group) throw new KeyFileError('key file does not start with a group', lineNo);
      const key = line.slice(0, eq).replace(/[ \t]+$/, '');
      if (key === '' || /[\x00-\x1f=\]]/.test(key.replace(/\[[^\]]*\]$/, ''))) {
        throw new KeyFileError(`invalid key name "${key}"`, lineNo);
      }
      // GLib strips the white space after '=' but keeps trailing white space only when escaped.
      group.set(key, line.slice(eq + 1).replace(/^[ \t]+/, ''));
    });
    return kf;
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  keys(group: string): string[] {
    return [...(this.groups.get(group)?.keys() ?? [])].filter((k) => !k.includes('['));
  }

  has(group: string, key: string): boolean {
    return this.groups.get(group)?.has(key) ?? false;
  }

  /** Sets an already-escaped raw value (used to lay command-line values over the file). */
  setRaw(group: string, key: string, raw: string): void {
    let g = this.groups.get(group);
    if (!g) {
      g = new Map();
      this.groups.set(group, g);
    }
    g.set(key, raw);
  }

  getString(group: string, key: string): string | undefined {
    const raw = this.groups.get(group)?.get(key);
    return raw === undefined ? undefined : unescapeValue(raw, false)[0];
  }

  getStringList(group: string, key: string): string[] | undefined {
    const raw = this.groups.get(group)?.get(key);
    if (raw === undefined) return undefined;
    const items = unescapeValue(raw, true);
    // A trailing separator does not start another element (g_key_file_get_string_list).
    if (items.length > 0 && items[items.length - 1] === '' && /(^|[^\\]);$/.test(raw)) items.pop();
    if (raw === '') return [];
    return items;
  }

  getInteger(group: string, key: string): number | undefined {
    const s = this.getString(group, key);
    if (s === undefined) return undefined;
    if (!/^\s*[-+]?\d+\s*$/.test(s)) throw new KeyFileError(`value "${s}" of key "${key}" in group "${group}" is not an integer`);
    return Number(s);
  }

  getBoolean(group: string, key: string): boolean | undefined {
    const s = this.getString(group, key)?.trim();
    if (s === undefined) return undefined;
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw new KeyFileError(`value "${s}" of key "${key}" in group "${group}" is not a boolean`);
  }
}

/** Escape a value the way g_key_file_set_string does (used when writing plugin overrides). */
export function escapeValue(value: string, forList = false): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === ' ' && i === 0) out += '\\s';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c === '\\') out += '\\\\';
    else if (c === ';' && forList) out += '\\;';
    else out += c;
  }
  return out;
}

function unescapeValue(raw: string, list: boolean): string[] {
  const items: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const n = raw[++i];
      switch (n) {
        case 's': cur += ' '; break;
        case 'n': cur += '\n'; break;
        case 't': cur += '\t'; break;
        case 'r': cur += '\r'; break;
        case '\\': cur += '\\'; break;
        case ';': cur += list ? ';' : '\\;'; break;
        case undefined: throw new KeyFileError(`value "${raw}" ends with a lone backslash`);
        default: throw new KeyFileError(`value "${raw}" contains the invalid escape "\\${n}"`);
      }
    } else if (c === ';' && list) {
      items.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  items.push(cur);
  return items;
}
