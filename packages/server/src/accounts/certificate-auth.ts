/**
 * infinoted's certificate-auth plugin options (protocol.md §9.2): ca-list, ca-key,
 * accept-unauthenticated-clients, super-user, verification-flags. Reads the files, builds the
 * CertificateAuthority, and creates the transient super-user account whose key and certificate
 * chain are written to the super-user file (infinoted_plugin_certificate_auth_initialize).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic.js';
import type { AclService } from '../acl/acl-service.js';
import { certificateDn } from './account-store.js';
import { CertificateAuthority } from './certificate-authority.js';

export interface CertificateAuthOptions {
  /** PEM file with the CA certificates client certificates must be signed by. */
  caList: string;
  /** PEM key of one of the CAs; enables create-acl-account and the super user. */
  caKey?: string;
  /** Whether clients without a certificate may connect (default false, like infinoted). */
  acceptUnauthenticatedClients?: boolean;
  /** File to write a 12-hour super-user key and certificate chain to. */
  superUser?: string;
  /**
   * GnuTLS verification flags. OpenSSL (Node) always verifies like infinoted's defaults
   * (X.509 v1 CAs allowed, CA signature algorithm checks as the system policy says), so these
   * are accepted for configuration compatibility and reported when they ask for more.
   */
  verificationFlags?: string[];
}

export interface CertificateAuth {
  ca: CertificateAuthority;
  acceptUnauthenticatedClients: boolean;
  superUser?: string;
}

export async function loadCertificateAuth(o: CertificateAuthOptions, log: (line: string) => void = () => undefined): Promise<CertificateAuth> {
  const ca = await CertificateAuthority.create(await readFile(o.caList, 'utf8'), o.caKey === undefined ? undefined : await readFile(o.caKey, 'utf8'));
  if (o.superUser !== undefined && !ca.canSign) throw new Error('Cannot generate a superuser certificate without CA key');
  const known = new Set(['allow-x509-v1-ca-crt', 'disable-ca-sign', 'do-not-allow-same', 'allow-any-x509-v1-ca-crt']);
  for (const f of o.verificationFlags ?? []) if (!known.has(f)) log(`certificate-auth: verification flag "${f}" is not supported by tandemd and ignored`);
  return { ca, acceptUnauthenticatedClients: o.acceptUnauthenticatedClients ?? false, ...(o.superUser !== undefined ? { superUser: o.superUser } : {}) };
}

/**
 * The super user: a transient account "Super User" (never written to accounts.xml) with every
 * supported permission on the root, and its credentials in `file` (key, then certificate, then CA).
 */
export async function createSuperUser(auth: CertificateAuth, acl: AclService, file: string): Promise<string> {
  const su = await auth.ca.createSuperUser();
  const account = acl.accounts.addTransient('Super User', certificateDn(su.certificate));
  await acl.grantAll(account.id);
  await writeFileAtomic(file, `${su.keyPem.trim()}\n${su.chainPem}`, 0o600);
  return account.id;
}
