/**
 * ACL files (`global-acl.xml`, `NODE.xml.acl`) and `accounts.xml`, as written by
 * infd_filesystem_storage_write_acl / infd_filesystem_account_storage. On disk a sheet names its
 * account with `account` (on the wire it is `id`); the setting names and their order are the
 * wire's (ACL_SETTINGS). Enforcement lives in src/acl/.
 */
import { ACL_SETTINGS, type AclSetting } from '@tandem/protocol';
import { type ReadElement, StorageFormatError, childElements, requiredAttr } from './read-element.js';
import { el, serializeFile } from './xml-file.js';

export interface AclSheet {
  account: string;
  /** Only the settings in the sheet's mask. */
  settings: Partial<Record<AclSetting, boolean>>;
}

/** The root default sheet when nothing is stored: the first 8 settings yes, the rest no. */
export function defaultRootSheet(): AclSheet {
  const settings: Partial<Record<AclSetting, boolean>> = {};
  ACL_SETTINGS.forEach((s, i) => (settings[s] = i < 8));
  return { account: 'default', settings };
}

export function encodeAcl(sheets: readonly AclSheet[]): string {
  const children = sheets
    .filter((s) => Object.keys(s.settings).length > 0)
    .map((s) => el('sheet', [['account', s.account], ...ACL_SETTINGS.filter((k) => s.settings[k] !== undefined)
      .map((k): [string, string] => [k, s.settings[k] ? 'yes' : 'no'])]));
  return serializeFile(el('inf-acl', [], children));
}

export function decodeAcl(root: ReadElement): AclSheet[] {
  if (root.name !== 'inf-acl') throw new StorageFormatError(`Unexpected root element "${root.name}", expected "inf-acl"`);
  const sheets: AclSheet[] = [];
  for (const s of childElements(root)) {
    if (s.name !== 'sheet') continue;
    const account = requiredAttr(s, 'account');
    const settings: Partial<Record<AclSetting, boolean>> = {};
    for (const k of ACL_SETTINGS) {
      const v = s.attrs[k];
      if (v === undefined) continue;
      if (v !== 'yes' && v !== 'no') throw new StorageFormatError('ACL field must be either "yes" or "no"');
      settings[k] = v === 'yes';
    }
    sheets.push({ account, settings });
  }
  return sheets;
}

export interface StoredAccount {
  id: string;
  name: string;
  /** Other attributes (first-seen, last-seen, password-salt, password-hash) kept verbatim. */
  extra: [string, string][];
  certificates: string[];
}

export function encodeAccounts(accounts: readonly StoredAccount[]): string {
  return serializeFile(el('inf-acl-account-list', [], accounts.map((a) =>
    el('account', [['id', a.id], ['name', a.name], ...a.extra], a.certificates.map((c) => el('certificate', [], [c]))))));
}

export function decodeAccounts(root: ReadElement): StoredAccount[] {
  if (root.name !== 'inf-acl-account-list') {
    throw new StorageFormatError(`Unexpected root element "${root.name}", expected "inf-acl-account-list"`);
  }
  return childElements(root).filter((a) => a.name === 'account').map((a) => ({
    id: requiredAttr(a, 'id'),
    name: requiredAttr(a, 'name'),
    extra: Object.entries(a.attrs).filter((e): e is [string, string] => e[0] !== 'id' && e[0] !== 'name' && e[1] !== undefined),
    certificates: childElements(a).filter((c) => c.name === 'certificate')
      .map((c) => c.children.filter((t): t is string => typeof t === 'string').join('')),
  }));
}
