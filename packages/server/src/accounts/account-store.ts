/**
 * ACL accounts (infd-filesystem-account-storage.c, protocol.md §3.10, §7.5): the accounts of
 * accounts.xml plus transient ones that live only in memory (the certificate-auth super user).
 * A certificate logs into the account that lists its DN (what infinoted stores), its SHA-256
 * fingerprint (older infinoted roots) or the certificate itself in PEM (hand-written files).
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import type { AclAccount } from '@tandem/protocol';
import type { StoredAccount } from '../storage/acl-format.js';
import type { Storage } from '../storage/types.js';

export const DEFAULT_ACCOUNT_ID = 'default';

interface TransientAccount {
  id: string;
  name: string;
  dn: string;
}

/** gnutls_x509_crt_get_dn's RFC 4514 form: RDNs last-to-first, comma separated. */
export function certificateDn(cert: X509Certificate): string {
  return cert.subject.split('\n').filter((p) => p !== '').reverse().join(',');
}

/** The subject's common name (the account name of a certificate request or certificate). */
export function commonName(cert: X509Certificate): string | undefined {
  for (const part of cert.subject.split('\n')) if (part.startsWith('CN=')) return part.slice(3);
  return undefined;
}

function normalisePem(text: string): string {
  return text.replace(/\s+/g, '');
}

export class AccountStore {
  private accounts: StoredAccount[] = [];
  private readonly transient: TransientAccount[] = [];
  /** Serialises writes of accounts.xml so two changes never interleave. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: Storage) {}

  async load(): Promise<void> {
    this.accounts = await this.storage.readAccounts();
  }

  /**
   * All accounts except default, transient ones first as infinoted lists them
   * (infd_directory_handle_query_acl_account_list); stored ones in accounts.xml order.
   */
  list(): AclAccount[] {
    return [...this.transient.map((t) => ({ id: t.id, name: t.name })), ...this.accounts.map((a) => ({ id: a.id, name: a.name }))];
  }

  get(id: string): AclAccount | undefined {
    if (id === DEFAULT_ACCOUNT_ID) return { id };
    return this.list().find((a) => a.id === id);
  }

  exists(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** The account named `name`, a stored one before a transient one. */
  byName(name: string): AclAccount | undefined {
    const a = this.accounts.find((x) => x.name === name) ?? this.transient.find((x) => x.name === name);
    return a ? { id: a.id, name: a.name } : undefined;
  }

  /**
   * lookup-acl-accounts as infd_directory_handle_lookup_acl_accounts answers it: queries in their
   * order, a transient id and a name (transient accounts of that name, then the stored one) at
   * once, stored ids all at the end; default and unknown ones left out, repeats kept. A query
   * without a value (no text as its first child) asks for nothing.
   */
  lookup(queries: readonly { by: 'id' | 'name'; value: string | undefined }[]): AclAccount[] {
    const found: AclAccount[] = [];
    const later: string[] = [];
    const out = (a: { id: string; name: string }): void => void found.push({ id: a.id, name: a.name });
    for (const q of queries) {
      if (q.value === undefined) continue;
      if (q.by === 'id') {
        if (q.value === DEFAULT_ACCOUNT_ID) continue;
        const t = this.transient.find((x) => x.id === q.value);
        if (t) out(t);
        else later.push(q.value);
      } else if (q.value !== '') {
        for (const t of this.transient) if (t.name === q.value) out(t);
        const a = this.accounts.find((x) => x.name === q.value);
        if (a) out(a);
      }
    }
    for (const id of later) {
      const a = this.accounts.find((x) => x.id === id);
      if (a) out(a);
    }
    return found;
  }

  /** The account a verified client certificate logs into, or undefined (then: default). */
  loginByCertificate(cert: X509Certificate): AclAccount | undefined {
    const dn = certificateDn(cert);
    const t = this.transient.find((x) => x.dn === dn);
    if (t) return { id: t.id, name: t.name };
    const fingerprint = cert.fingerprint256.toLowerCase();
    const pem = normalisePem(cert.toString());
    const a = this.accounts.find((x) => x.certificates.some((c) =>
      c === dn || c.trim().toLowerCase() === fingerprint || (c.includes('BEGIN CERTIFICATE') && normalisePem(c) === pem)));
    return a ? { id: a.id, name: a.name } : undefined;
  }

  /** A new stored account for `name` with one certificate DN; ids look like fs:user:NAME:HEX. */
  async add(name: string, dn: string): Promise<AclAccount> {
    let id: string;
    do id = `fs:user:${name}:${randomBytes(4).readUInt32BE().toString(16)}`; while (this.exists(id));
    const now = (Date.now() / 1000).toFixed(6);
    this.accounts.push({ id, name, extra: [['first-seen', now]], certificates: [dn] });
    await this.persist();
    return { id, name };
  }

  /** Replaces the certificates of an existing account (create-acl-account over an existing name). */
  async setCertificate(id: string, dn: string): Promise<void> {
    const t = this.transient.find((x) => x.id === id);
    if (t) {
      t.dn = dn;
      return;
    }
    const a = this.accounts.find((x) => x.id === id);
    if (!a) return;
    a.certificates = [dn];
    await this.persist();
  }

  /** An in-memory account (never written), id `_transient:NAME`. */
  addTransient(name: string, dn: string): AclAccount {
    const id = `_transient:${name}`;
    this.transient.push({ id, name, dn });
    return { id, name };
  }

  /** Removes a stored or transient account; false if there is none with that id. */
  async remove(id: string): Promise<boolean> {
    const ti = this.transient.findIndex((x) => x.id === id);
    if (ti >= 0) {
      this.transient.splice(ti, 1);
      return true;
    }
    const i = this.accounts.findIndex((x) => x.id === id);
    if (i < 0) return false;
    this.accounts.splice(i, 1);
    await this.persist();
    return true;
  }

  private persist(): Promise<void> {
    const snapshot = this.accounts.map((a) => ({ ...a, extra: [...a.extra], certificates: [...a.certificates] }));
    const p = this.chain.then(() => this.storage.writeAccounts(snapshot));
    this.chain = p.catch(() => undefined);
    return p;
  }
}
