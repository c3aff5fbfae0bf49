/**
 * The directory's ACL state and ACL requests (infd-directory.c: ACL parts; protocol.md §3.10,
 * §3.11): the sheets of every loaded node, the account of every connection, which node ACLs each
 * connection queried, permission checks ("Permission denied", INF_REQUEST_ERROR 6), and the
 * handlers of query-acl, set-acl, query-acl-account-list, lookup-acl-accounts,
 * create-acl-account and remove-acl-account, with their notifications to other connections.
 * Unlike infinoted 0.7.2, a created account is persisted without a spurious error and removing
 * one answers (quirks 6 and 7).
 */
import {
  parseUint, decodeAcl, readText, requireAttr,
  ACL_SETTINGS, type AclAccount, type AclSetting, type AclSheet, type DirectoryReply, Element, ErrorCodes, InfError,
  encodeDirectoryReply,
} from '@tandem/protocol';
import { AccountStore, DEFAULT_ACCOUNT_ID, certificateDn } from '../accounts/account-store.js';
import { CertificateAuthority, CertificateError } from '../accounts/certificate-authority.js';
import type { DirNode } from '../directory/tree.js';
import type { DirectoryCall } from '../directory/call.js';
import type { Member } from '../session/text-session.js';
import type { NodePath, Storage } from '../storage/types.js';
import { DEFAULT_ACCOUNT, ROOT_ONLY_SETTINGS, defaultRootPerms, fromStored, mergeSheets, resolvePermission, toStored, visibleSheets, withoutRootOnly } from './sheets.js';

const DIR = ErrorCodes.INF_DIRECTORY_ERROR;
const REQ = ErrorCodes.INF_REQUEST_ERROR;

/** What the ACL code needs from the directory. */
export interface AclHost {
  readonly root: DirNode;
  /** The node with this id, or undefined. */
  node(id: number): DirNode | undefined;
  path(node: DirNode): NodePath;
  /** Every connection that finished authentication. */
  members(): Iterable<Member>;
  /** Connections that see `node`: those that explored its parent (every connection for the root). */
  viewers(node: DirNode): Member[];
  /** Sends directory messages to one connection. */
  send(m: Member, ...messages: Element[]): void;
  /** Subdirectories `m` explored; `unexplore` drops one (and with it everything below). */
  explored(m: Member): DirNode[];
  unexplore(m: Member, node: DirNode): void;
  /** Notes whose session `m` is subscribed to; `unsubscribe` closes it for `m` (session-close). */
  subscribed(m: Member): DirNode[];
  unsubscribe(m: Member, node: DirNode): void;
  log(line: string): void;
}

export interface AclServiceOptions {
  storage: Storage;
  accounts: AccountStore;
  /** certificate-auth's CA; without a CA key create-acl-account is unsupported (code 21). */
  ca?: CertificateAuthority;
}

interface ConnState {
  account: AclAccount;
  /** Nodes whose full ACL this connection queried (it gets all their sheets from then on). */
  queried: Set<DirNode>;
}

export function permissionDenied(): InfError {
  return new InfError('INF_REQUEST_ERROR', REQ.NOT_AUTHORIZED, 'Permission denied');
}

export class AclService {
  private host!: AclHost;
  /** Sheets of loaded nodes; the root's are the effective ones (support-masked). */
  private readonly sheets = new Map<DirNode, AclSheet[]>();
  /** The root's sheets as stored, kept so disabled features keep their stored value (orig_root_acl). */
  private origRoot: AclSheet[] = [];
  private readonly conns = new Map<Member, ConnState>();
  private readonly loading = new Map<DirNode, Promise<AclSheet[]>>();

  constructor(private readonly o: AclServiceOptions) {}

  get accounts(): AccountStore {
    return this.o.accounts;
  }

  /**
   * Loads the accounts and the root ACL; the root default sheet is completed with the defaults and
   * written back if it was incomplete (infd_directory_read_root_acl).
   */
  async init(host: AclHost): Promise<void> {
    this.host = host;
    await this.o.accounts.load();
    const stored = this.known(fromStored(await this.o.storage.readAcl([])));
    const dflt = stored.find((s) => s.account === DEFAULT_ACCOUNT);
    const complete = dflt !== undefined && ACL_SETTINGS.every((k) => dflt.perms[k] !== undefined);
    const merged = { account: DEFAULT_ACCOUNT, perms: { ...defaultRootPerms(), ...(dflt?.perms ?? {}) } };
    this.origRoot = [merged, ...stored.filter((s) => s.account !== DEFAULT_ACCOUNT)];
    if (!complete) await this.o.storage.writeAcl([], toStored(this.origRoot));
    this.sheets.set(host.root, this.supportMasked(this.origRoot));
  }

  /** Settings this server cannot honour are reported "no" on the root (report_support_in_sheets). */
  private supportMasked(sheets: readonly AclSheet[]): AclSheet[] {
    const canSign = this.o.ca?.canSign === true;
    return sheets.map((s) => {
      const perms = { ...s.perms };
      if (!canSign && perms['can-create-account'] === true) perms['can-create-account'] = false;
      return { account: s.account, perms };
    });
  }

  /** Sheets for accounts that do not exist are dropped when read (infd_directory_verify_acl). */
  private known(sheets: readonly AclSheet[]): AclSheet[] {
    return sheets.filter((s) => this.o.accounts.exists(s.account));
  }

  // ---- connections ------------------------------------------------------------------------

  connect(m: Member, account: AclAccount | undefined): void {
    this.conns.set(m, { account: account ?? { id: DEFAULT_ACCOUNT_ID }, queried: new Set() });
  }

  disconnect(m: Member): void {
    this.conns.delete(m);
  }

  accountOf(m: Member): AclAccount {
    return this.conns.get(m)?.account ?? { id: DEFAULT_ACCOUNT_ID };
  }

  /** The welcome's `<account>` (only for a non-default account) and root `<acl>` (§3.1). */
  welcome(m: Member): { account?: AclAccount; acl: AclSheet[] } {
    const account = this.accountOf(m);
    const acl = visibleSheets(this.sheets.get(this.host.root) ?? [], account.id, false);
    return account.id === DEFAULT_ACCOUNT_ID ? { acl } : { account, acl };
  }

  // ---- sheets and checks ------------------------------------------------------------------

  /** The node's sheets, read from its .xml.acl file the first time. */
  async sheetsOf(node: DirNode): Promise<AclSheet[]> {
    const have = this.sheets.get(node);
    if (have) return have;
    let p = this.loading.get(node);
    if (!p) {
      p = this.o.storage.readAcl(this.host.path(node)).then((s) => withoutRootOnly(this.known(fromStored(s))), (err: Error) => {
        // An unreadable ACL must not grant anything it may have denied: deny all at this node.
        this.host.log(`Could not read the ACL of "/${this.host.path(node).join('/')}": ${err.message}; denying everything there`);
        return [{ account: DEFAULT_ACCOUNT, perms: Object.fromEntries(ACL_SETTINGS.filter((k) => !ROOT_ONLY_SETTINGS.includes(k)).map((k) => [k, false])) }];
      });
      this.loading.set(node, p);
    }
    const sheets = await p;
    this.loading.delete(node);
    if (!this.sheets.has(node)) this.sheets.set(node, sheets);
    return this.sheets.get(node)!;
  }

  private async chain(node: DirNode): Promise<AclSheet[][]> {
    const out: AclSheet[][] = [];
    for (let n: DirNode | undefined = node; n; n = n.parent) out.push(await this.sheetsOf(n));
    return out;
  }

  /** Whether the connection's account has every one of `settings` at `node`. */
  async can(m: Member, node: DirNode, ...settings: AclSetting[]): Promise<boolean> {
    const chain = await this.chain(node);
    const account = this.accountOf(m).id;
    return settings.every((s) => resolvePermission(chain, account, s));
  }

  /** Throws INF_REQUEST_ERROR 6 "Permission denied" unless the account has all `settings` at `node`. */
  async check(m: Member, node: DirNode, ...settings: AclSetting[]): Promise<void> {
    if (!(await this.can(m, node, ...settings))) throw permissionDenied();
  }

  /** The `<acl>` sheets of `node` as `m` sees them in add-node messages. */
  async sheetsFor(m: Member, node: DirNode): Promise<AclSheet[]> {
    const st = this.conns.get(m);
    return visibleSheets(await this.sheetsOf(node), this.accountOf(m).id, st?.queried.has(node) ?? false);
  }

  /** Validates the `<acl>` of an add-node request: known accounts only (code 30), no root-only settings. */
  initialSheets(sheets: readonly AclSheet[]): AclSheet[] {
    for (const s of sheets) if (!this.o.accounts.exists(s.account)) throw noSuchAccount(s.account);
    return withoutRootOnly(mergeSheets([], sheets));
  }

  /** Gives a new node its initial sheets (from add-node's `<acl>`), written before the node is announced. */
  async setInitial(node: DirNode, sheets: readonly AclSheet[]): Promise<void> {
    this.sheets.set(node, [...sheets]);
    if (sheets.length > 0) await this.o.storage.writeAcl(this.host.path(node), toStored(sheets));
  }

  /** A removed node's sheets are gone (storage removes the .xml.acl file with the node). */
  forget(node: DirNode): void {
    this.sheets.delete(node);
    for (const st of this.conns.values()) st.queried.delete(node);
  }

  // ---- requests ---------------------------------------------------------------------------

  /** True for the messages this module answers. */
  static handles(name: string): boolean {
    return ['query-acl', 'set-acl', 'query-acl-account-list', 'lookup-acl-accounts', 'create-acl-account', 'remove-acl-account'].includes(name);
  }

  /** Answers one ACL request; throws InfError for request-failed. `seq` is the reply's "ID/N". */
  async handle(m: Member, r: DirectoryCall): Promise<void> {
    switch (r.el.name) {
      case 'query-acl': return this.queryAcl(m, r);
      case 'set-acl': return this.setAcl(m, r);
      case 'query-acl-account-list': return this.queryAccountList(m, r);
      case 'lookup-acl-accounts': return this.lookupAccounts(m, r);
      case 'create-acl-account': return this.createAccount(m, r);
      case 'remove-acl-account': return this.removeAccount(m, r);
      default: throw new InfError('INF_DIRECTORY_ERROR', DIR.UNEXPECTED_MESSAGE, `Received unexpected network message "${r.el.name}"`);
    }
  }

  private reply(m: Member, msg: DirectoryReply): void {
    this.host.send(m, encodeDirectoryReply(msg));
  }

  private nodeOf(el: Element): DirNode {
    const raw = el.attrs.id;
    if (typeof raw !== 'string') throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, `Request '${el.name}' does not contain required attribute 'id'`);
    const id = parseUint('id', raw);
    const node = this.host.node(id);
    if (!node) throw new InfError('INF_DIRECTORY_ERROR', DIR.NO_SUCH_NODE, 'Node does not exist');
    return node;
  }

  /** infd_directory_handle_query_acl: once per node and connection (31), needs can-query-acl. */
  private async queryAcl(m: Member, r: DirectoryCall): Promise<void> {
    const node = this.nodeOf(r.el);
    const st = this.conns.get(m)!;
    if (st.queried.has(node)) throw new InfError('INF_DIRECTORY_ERROR', DIR.ACL_ALREADY_QUERIED, 'The ACL for this node has already been queried');
    await this.check(m, node, 'can-query-acl');
    const seq = r.makeSeq();
    st.queried.add(node);
    const acl = await this.sheetsOf(node);
    this.reply(m, { kind: 'set-acl', id: node.id, ...(seq !== undefined ? { seq } : {}), acl });
  }

  /** infd_directory_handle_set_acl: replaces the sheets of the given accounts, then tells everyone who sees the node. */
  private async setAcl(m: Member, r: DirectoryCall): Promise<void> {
    const node = this.nodeOf(r.el);
    const st = this.conns.get(m)!;
    if (!st.queried.has(node)) throw new InfError('INF_DIRECTORY_ERROR', DIR.ACL_NOT_QUERIED, 'The ACL for this node has not been queried yet');
    await this.check(m, node, 'can-set-acl');
    const aclElement = r.el.getChild('acl');
    const sheets = aclElement ? decodeAcl(aclElement) : [];
    for (const s of sheets) if (!this.o.accounts.exists(s.account)) throw noSuchAccount(s.account);
    if (sheets.length === 0) throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, 'The set-acl request does not have any ACL provided');
    const isRoot = node === this.host.root;
    let changes = dedupe(sheets);
    if (isRoot && this.o.ca?.canSign !== true && changes.some((s) => s.perms['can-create-account'] === true)) {
      throw new InfError('INF_DIRECTORY_ERROR', DIR.OPERATION_UNSUPPORTED, 'This server does not support the requested permissions');
    }
    const seq = r.makeSeq();
    if (isRoot) {
      this.origRoot = mergeSheets(this.origRoot, changes);
      this.sheets.set(node, this.supportMasked(this.origRoot));
    } else {
      changes = withoutRootOnly(changes);
      this.sheets.set(node, mergeSheets(await this.sheetsOf(node), changes));
    }
    // Persist before anyone is told, so an acknowledged change survives a restart.
    try {
      await this.o.storage.writeAcl(this.host.path(node), toStored(isRoot ? this.origRoot : this.sheets.get(node)!));
    } catch (err) {
      this.host.log(`Failed to write the ACL of node ${node.id}: ${(err as Error).message}; the new ACL is applied but will be lost on restart`);
    }
    const changedDefault = changes.some((s) => s.account === DEFAULT_ACCOUNT);
    for (const [other, ost] of this.conns) {
      if (changedDefault || changes.some((s) => s.account === ost.account.id)) await this.enforce(other);
    }
    for (const v of node === this.host.root ? [...this.host.members()] : this.host.viewers(node)) {
      if (v === m) continue;
      const vis = visibleSheets(changes, this.accountOf(v).id, this.conns.get(v)?.queried.has(node) ?? false);
      if (vis.length > 0) this.reply(v, { kind: 'set-acl', id: node.id, acl: vis });
    }
    this.reply(m, { kind: 'set-acl', id: node.id, ...(seq !== undefined ? { seq } : {}), acl: changes });
  }

  /**
   * Drops explorations and subscriptions `m` may no longer have (infd_directory_enforce_acl): a
   * subdirectory stays explored only if it is explorable and its parent stays explored.
   */
  async enforce(m: Member): Promise<void> {
    const explored = new Set(this.host.explored(m));
    const stillExplored = async (n: DirNode | undefined): Promise<boolean> => {
      for (; n; n = n.parent) if (!explored.has(n) || !(await this.can(m, n, 'can-explore-node'))) return false;
      return true;
    };
    for (const n of [...explored]) if (!(await stillExplored(n))) this.host.unexplore(m, n);
    for (const n of this.host.subscribed(m)) {
      if (!(await stillExplored(n.parent)) || !(await this.can(m, n, 'can-subscribe-session'))) this.host.unsubscribe(m, n);
    }
    const st = this.conns.get(m);
    if (!st) return;
    for (const n of [...st.queried]) {
      if ((n.parent && !(await stillExplored(n.parent))) || !(await this.can(m, n, 'can-query-acl'))) st.queried.delete(n);
    }
  }

  /** §3.10: every account but default and the caller's own; notifications follow. */
  private async queryAccountList(m: Member, r: DirectoryCall): Promise<void> {
    await this.check(m, this.host.root, 'can-query-account-list');
    const seq = r.makeSeq();
    const own = this.accountOf(m).id;
    const list = this.o.accounts.list().filter((a) => a.id !== own);
    const s = seq !== undefined ? { seq } : {};
    this.host.send(m,
      encodeDirectoryReply({ kind: 'acl-account-list-begin', notificationsEnabled: true, total: list.length, ...s }),
      ...list.map((account) => encodeDirectoryReply({ kind: 'add-acl-account', account, ...s })),
      encodeDirectoryReply({ kind: 'acl-account-list-end', ...s }));
  }

  /** The <id> and <name> children in order, each with the text node libxml2 would give as its first child. */
  private async lookupAccounts(m: Member, r: DirectoryCall): Promise<void> {
    await this.check(m, this.host.root, 'can-query-account-list');
    const seq = r.makeSeq();
    const queries = r.el.getChildElements()
      .filter((c) => c.name === 'id' || c.name === 'name')
      .map((c) => ({ by: c.name as 'id' | 'name', value: typeof c.children[0] === 'string' ? c.children[0] : undefined }));
    this.reply(m, { kind: 'lookup-acl-accounts', ...(seq !== undefined ? { seq } : {}), accounts: this.o.accounts.lookup(queries) });
  }

  /** Connections allowed to see the account list get add/remove-acl-account notifications. */
  private async listWatchers(): Promise<Member[]> {
    const out: Member[] = [];
    for (const m of this.conns.keys()) if (await this.can(m, this.host.root, 'can-query-account-list')) out.push(m);
    return out;
  }

  /**
   * infd_directory_handle_create_acl_account: the CSR's CN names the account; a certificate
   * valid 365 days is signed, the account created (or, with can-override-account, the existing
   * one of that name re-keyed) and persisted before the reply.
   */
  private async createAccount(m: Member, r: DirectoryCall): Promise<void> {
    const crq = r.el.getChild('crq');
    const req = { crq: crq ? readText(crq) : '' };
    if (req.crq.trim() === '') throw new InfError('INF_REQUEST_ERROR', REQ.NO_SUCH_ATTRIBUTE, 'No certificate request provided');
    const ca = this.o.ca;
    if (!ca?.canSign) throw new InfError('INF_DIRECTORY_ERROR', DIR.OPERATION_UNSUPPORTED, 'Server does not support issuing certificates');
    let parsed;
    try {
      parsed = await CertificateAuthority.parseRequest(req.crq);
    } catch (err) {
      throw new InfError('INF_DIRECTORY_ERROR', DIR.INVALID_CERTIFICATE, (err as Error).message);
    }
    const name = parsed.commonName;
    if (!name) throw new InfError('INF_DIRECTORY_ERROR', DIR.INVALID_CERTIFICATE, 'The certificate request has no common name set');
    const existing = this.o.accounts.byName(name);
    await this.check(m, this.host.root, 'can-create-account', ...(existing ? ['can-override-account' as const] : []));
    let signed;
    try {
      signed = await ca.signRequest(parsed.request);
    } catch (err) {
      if (err instanceof CertificateError) throw new InfError('INF_DIRECTORY_ERROR', DIR.INVALID_CERTIFICATE, err.message);
      throw err;
    }
    const seq = r.makeSeq();
    const dn = certificateDn(signed.certificate);
    let account: AclAccount;
    if (existing) {
      await this.o.accounts.setCertificate(existing.id, dn);
      account = existing;
    } else {
      account = await this.o.accounts.add(name, dn);
      for (const w of await this.listWatchers()) if (w !== m) this.reply(w, { kind: 'add-acl-account', account });
    }
    this.reply(m, { kind: 'create-acl-account', ...(seq !== undefined ? { seq } : {}), account, certificate: signed.chainPem });
  }

  /**
   * infd_directory_remove_acl_account: connections logged into the account fall back to default
   * (change-acl-account), its sheets go from every loaded ACL, and the requester plus everyone
   * allowed to list accounts get remove-acl-account.
   */
  private async removeAccount(m: Member, r: DirectoryCall): Promise<void> {
    await this.check(m, this.host.root, 'can-remove-account');
    const req = { id: requireAttr(r.el, 'id') };
    const seq = r.makeSeq();
    if (req.id === DEFAULT_ACCOUNT_ID) throw new InfError('INF_DIRECTORY_ERROR', DIR.NO_SUCH_ACCOUNT, 'The default account cannot be removed');
    if (!(await this.o.accounts.remove(req.id))) throw noSuchAccount(req.id);
    for (const [other, st] of this.conns) {
      if (st.account.id !== req.id) continue;
      st.account = { id: DEFAULT_ACCOUNT_ID };
      await this.enforce(other);
      this.reply(other, { kind: 'change-acl-account', account: { id: DEFAULT_ACCOUNT_ID }, nodes: [] });
    }
    for (const [node, sheets] of [...this.sheets]) {
      if (node !== this.host.root && this.host.node(node.id) !== node) {
        this.sheets.delete(node);
        continue;
      }
      if (!sheets.some((s) => s.account === req.id)) continue;
      const rest = sheets.filter((s) => s.account !== req.id);
      if (node === this.host.root) {
        this.origRoot = this.origRoot.filter((s) => s.account !== req.id);
        this.sheets.set(node, this.supportMasked(this.origRoot));
      } else {
        this.sheets.set(node, rest);
      }
      await this.o.storage.writeAcl(this.host.path(node), toStored(node === this.host.root ? this.origRoot : rest))
        .catch((err: Error) => this.host.log(`Failed to write the ACL of node ${node.id}: ${err.message}`));
    }
    for (const w of await this.listWatchers()) if (w !== m) this.reply(w, { kind: 'remove-acl-account', id: req.id });
    this.reply(m, { kind: 'remove-acl-account', id: req.id, ...(seq !== undefined ? { seq } : {}) });
  }

  // ---- accounts of live connections -------------------------------------------------------

  /** A root sheet granting `account` everything this server supports (the super user). */
  async grantAll(account: string): Promise<void> {
    const perms = Object.fromEntries(ACL_SETTINGS.map((k) => [k, k !== 'can-create-account' || this.o.ca?.canSign === true]));
    const sheet: AclSheet = { account, perms };
    this.origRoot = mergeSheets(this.origRoot, [sheet]);
    this.sheets.set(this.host.root, this.supportMasked(this.origRoot));
  }
}

function noSuchAccount(id: string): InfError {
  return new InfError('INF_DIRECTORY_ERROR', DIR.NO_SUCH_ACCOUNT, `There is no such account with ID "${id}"`);
}

/** The last sheet of an account wins when a request names it twice. */
function dedupe(sheets: readonly AclSheet[]): AclSheet[] {
  const out = new Map<string, AclSheet>();
  for (const s of sheets) out.set(s.account, s);
  return [...out.values()];
}
