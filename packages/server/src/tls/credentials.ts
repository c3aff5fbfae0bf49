/**
 * The server's TLS key and certificate: loaded from PEM files, or created self-signed. infinoted
 * refuses to start without them (infinoted_options_validate); tandemd creates them in its data
 * directory on first start instead, so that `tandemd` with no flags serves TLS right away.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { hostname, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';

export interface TlsCredentials {
  key: string;
  /** Certificate followed by the issuer chain, PEM. */
  cert: string;
  keyFile: string;
  certificateFile: string;
  fingerprintSha256: string;
  fingerprintSha1: string;
  /** True if this call created the files. */
  created: boolean;
}

/** $XDG_DATA_HOME/tandem, else ~/.local/share/tandem. */
export function defaultDataDirectory(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'tandem');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates a private key and a self-signed certificate for `commonName` (10 years, SHA-256). */
export async function createSelfSigned(commonName: string, keySize: number, existingKey?: string): Promise<{ key: string; cert: string }> {
  const keyPair = existingKey === undefined ? undefined : {
    privateKey: createPrivateKey(existingKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: createPublicKey(existingKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  // selfsigned (and the x509 code under it) is loaded only when a certificate is made.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize,
    algorithm: 'sha256',
    ...(keyPair ? { keyPair } : {}),
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: commonName }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export interface CredentialOptions {
  keyFile?: string;
  certificateFile?: string;
  certificateChain?: string;
  /** --create-key / --create-certificate: (re)create into the given files. */
  createKey?: boolean;
  createCertificate?: boolean;
  /** Where default files live when none are configured. */
  dataDirectory?: string;
}

/**
 * Resolves the credentials: explicit files must exist (unless asked to create them); with no
 * files configured, key.pem/cert.pem in the data directory are used and created if missing.
 */
export async function loadCredentials(o: CredentialOptions): Promise<TlsCredentials> {
  const dataDir = o.dataDirectory ?? defaultDataDirectory();
  const implicit = o.keyFile === undefined && o.certificateFile === undefined;
  const keyFile = o.keyFile ?? join(dataDir, 'key.pem');
  const certificateFile = o.certificateFile ?? join(dataDir, 'cert.pem');
  if (!implicit && (o.keyFile === undefined || o.certificateFile === undefined)) {
    throw new Error(o.keyFile === undefined
      ? 'No private key file given (--key-file); it is needed together with --certificate-file'
      : 'No certificate file given (--certificate-file); create one with --create-certificate, or use --security-policy=no-tls');
  }
  let created = false;
  const createBoth = o.createKey === true || (implicit && !(await exists(keyFile)) && !(await exists(certificateFile)));
  if (createBoth) {
    const pems = await createSelfSigned(hostname() || 'localhost', o.createKey ? 4096 : 2048);
    await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
    await mkdir(dirname(certificateFile), { recursive: true });
    await writeFileAtomic(keyFile, pems.key, 0o600);
    await writeFileAtomic(certificateFile, pems.cert, 0o644);
    created = true;
  } else if (o.createCertificate) {
    // A new certificate for an existing key (infinoted_startup_load_certificate with create).
    const key = await readFile(keyFile, 'utf8');
    const pems = await createSelfSigned(hostname() || 'localhost', 0, key);
    await writeFileAtomic(certificateFile, pems.cert, 0o644);
    created = true;
  }
  let key: string;
  let cert: string;
  try {
    key = await readFile(keyFile, 'utf8');
  } catch (err) {
    throw new Error(`Could not read the private key "${keyFile}": ${(err as Error).message}` +
      (implicit ? '' : ' (create one with --create-key --create-certificate)'));
  }
  try {
    cert = await readFile(certificateFile, 'utf8');
  } catch (err) {
    throw new Error(`Could not read the certificate "${certificateFile}": ${(err as Error).message}` +
      (implicit ? '' : ' (create one with --create-certificate)'));
  }
  if (o.certificateChain !== undefined) cert = `${cert.trimEnd()}\n${await readFile(o.certificateChain, 'utf8')}`;
  let x509: X509Certificate;
  try {
    createPrivateKey(key);
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`Invalid key or certificate (${keyFile}, ${certificateFile}): ${(err as Error).message}`);
  }
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`The certificate "${certificateFile}" was not made for the key "${keyFile}"`);
  }
  return {
    key, cert, keyFile, certificateFile, created,
    fingerprintSha256: x509.fingerprint256,
    fingerprintSha1: x509.fingerprint,
  };
}
