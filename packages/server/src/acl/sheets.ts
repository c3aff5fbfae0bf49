/**
 * ACL sheet arithmetic (inf-acl.c, inf-browser.c inf_browser_check_acl; protocol.md §3.11): the
 * effective permission walk, set-acl merging and what part of a sheet list a connection may see.
 * Pure functions over @tandem/protocol's AclSheet; no storage, no connections.
 */
import { ACL_SETTINGS, type AclPerms, type AclSetting, type AclSheet } from '@tandem/protocol';

export const DEFAULT_ACCOUNT = 'default';

/** Settings that only mean something on the root node (INF_ACL_MASK_ROOT). */
export const ROOT_ONLY_SETTINGS: readonly AclSetting[] = [
  'can-subscribe-chat', 'can-query-account-list', 'can-create-account', 'can-override-account', 'can-remove-account',
];

/** The root default sheet when nothing is stored: the first 8 settings granted, the rest not. */
export function defaultRootPerms(): Required<AclPerms> {
  const perms = {} as Required<AclPerms>;
  ACL_SETTINGS.forEach((s, i) => (perms[s] = i < 8));
  return perms;
}

/**
 * Whether `account` has `setting` at a node, given the sheet lists from that node up to the root
 * (chain[0] = the node, chain[last] = the root). At each node the account's own sheet decides if
 * its mask has the setting, else the node's default sheet; otherwise the walk goes on to the
 * parent. The root's default sheet must define every setting; a setting it lacks is denied.
 * Root-only settings are looked up on the root alone.
 */
export function resolvePermission(chain: readonly (readonly AclSheet[])[], account: string, setting: AclSetting): boolean {
  const start = ROOT_ONLY_SETTINGS.includes(setting) ? chain.length - 1 : 0;
  for (let i = Math.max(start, 0); i < chain.length; i++) {
    const sheets = chain[i]!;
    const own = sheets.find((s) => s.account === account)?.perms[setting];
    if (own !== undefined) return own;
    if (account !== DEFAULT_ACCOUNT) {
      const dflt = sheets.find((s) => s.account === DEFAULT_ACCOUNT)?.perms[setting];
      if (dflt !== undefined) return dflt;
    }
  }
  return false;
}

/** Every setting resolved at once (the mask a connection effectively has at a node). */
export function effectivePerms(chain: readonly (readonly AclSheet[])[], account: string): Required<AclPerms> {
  const out = {} as Required<AclPerms>;
  for (const s of ACL_SETTINGS) out[s] = resolvePermission(chain, account, s);
  return out;
}

/**
 * set-acl semantics (inf_acl_sheet_set_merge_sheets): each changed sheet replaces the stored sheet
 * of its account; a sheet with an empty mask removes it. Order of existing sheets is kept, new
 * ones are appended.
 */
export function mergeSheets(existing: readonly AclSheet[], changes: readonly AclSheet[]): AclSheet[] {
  const out = existing.map((s) => ({ account: s.account, perms: { ...s.perms } }));
  for (const c of changes) {
    const i = out.findIndex((s) => s.account === c.account);
    const empty = Object.keys(c.perms).length === 0;
    if (i >= 0 && empty) out.splice(i, 1);
    else if (i >= 0) out[i] = { account: c.account, perms: { ...c.perms } };
    else if (!empty) out.push({ account: c.account, perms: { ...c.perms } });
  }
  return out;
}

/** Drops root-only settings from a sheet list meant for a non-root node. */
export function withoutRootOnly(sheets: readonly AclSheet[]): AclSheet[] {
  return sheets.map((s) => {
    const perms: AclPerms = { ...s.perms };
    for (const k of ROOT_ONLY_SETTINGS) delete perms[k];
    return { account: s.account, perms };
  });
}

/**
 * The sheets a connection is shown (infd_directory_acl_sheets_to_xml_for_connection): all of them
 * after it queried the node's ACL, else only the default sheet and its own account's sheet.
 */
export function visibleSheets(sheets: readonly AclSheet[], account: string, full: boolean): AclSheet[] {
  if (full) return [...sheets];
  return sheets.filter((s) => s.account === DEFAULT_ACCOUNT || s.account === account);
}

/** Storage keeps the mask under `settings` (storage/acl-format.ts); the wire codec under `perms`. */
export function fromStored(sheets: readonly { account: string; settings: AclPerms }[]): AclSheet[] {
  return sheets.map((s) => ({ account: s.account, perms: { ...s.settings } }));
}

export function toStored(sheets: readonly AclSheet[]): { account: string; settings: AclPerms }[] {
  return sheets.map((s) => ({ account: s.account, settings: { ...s.perms } }));
}
