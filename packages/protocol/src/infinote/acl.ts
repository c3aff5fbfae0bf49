/**
 * ACL sheets and accounts as they travel (protocol.md 3.10, 3.11; inf-acl.c
 * inf_acl_sheet_perms_to_xml / _from_xml).
 */
import { Element } from '@xmpp/xml';
import { ErrorCodes, InfError } from '../errors.js';
import { requireAttr } from './values.js';

/** The 14 settings in libinfinity's enum order, which is also the order they are written in. */
export const ACL_SETTINGS = [
  'can-add-subdirectory', 'can-add-document', 'can-sync-in', 'can-remove-node', 'can-explore-node',
  'can-subscribe-chat', 'can-subscribe-session', 'can-join-user', 'can-query-account-list',
  'can-create-account', 'can-override-account', 'can-remove-account', 'can-query-acl', 'can-set-acl',
] as const;
export type AclSetting = (typeof ACL_SETTINGS)[number];

/** The settings a sheet defines (its mask), each granted (true) or denied (false). */
export type AclPerms = Partial<Record<AclSetting, boolean>>;

export interface AclSheet {
  /** Account id ("default", "fs:user:dave", ...). */
  account: string;
  perms: AclPerms;
}

export interface AclAccount {
  id: string;
  name?: string;
}

/** Reads the can-* attributes; only "yes"/"no" are valid (INF_REQUEST_ERROR 4). */
export function decodePerms(el: Element): AclPerms {
  const perms: AclPerms = {};
  for (const s of ACL_SETTINGS) {
    const v = el.attrs[s];
    if (v === undefined) continue;
    if (v !== 'yes' && v !== 'no') {
      throw new InfError('INF_REQUEST_ERROR', ErrorCodes.INF_REQUEST_ERROR.INVALID_ATTRIBUTE, 'ACL field must be either "yes" or "no"');
    }
    perms[s] = v === 'yes';
  }
  return perms;
}

/** Adds the can-* attributes in enum order. */
export function encodePerms(el: Element, perms: AclPerms): Element {
  for (const s of ACL_SETTINGS) {
    const v = perms[s];
    if (v !== undefined) el.attrs[s] = v ? 'yes' : 'no';
  }
  return el;
}

/**
 * `<acl><sheet id=.../>...</acl>` children of welcome/add-node/set-acl. On disk the account
 * attribute is called `account` (protocol.md 7.4): pass idAttribute for that.
 */
export function decodeAcl(acl: Element, idAttribute: 'id' | 'account' = 'id'): AclSheet[] {
  return acl.getChildren('sheet').map((s) => ({ account: requireAttr(s, idAttribute), perms: decodePerms(s) }));
}

export function encodeAcl(sheets: readonly AclSheet[], idAttribute: 'id' | 'account' = 'id', name = 'acl'): Element {
  const acl = new Element(name);
  for (const sheet of sheets) acl.cnode(encodePerms(new Element('sheet', { [idAttribute]: sheet.account }), sheet.perms));
  return acl;
}

/** inf_acl_account_to_xml: `id` then optional `name`. */
export function accountAttrs(a: AclAccount): Record<string, string> {
  return a.name !== undefined ? { id: a.id, name: a.name } : { id: a.id };
}

export function decodeAccount(el: Element): AclAccount {
  const id = requireAttr(el, 'id');
  const name = el.attrs.name;
  return typeof name === 'string' ? { id, name } : { id };
}
