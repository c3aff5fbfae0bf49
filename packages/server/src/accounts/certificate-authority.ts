/**
 * The certificate-auth plugin's CA (infinoted-plugin-certificate-auth.c): the CA list client
 * certificates are verified against, and optionally the CA key that signs certificate requests
 * for create-acl-account (infd_directory_create_certificate_from_crq: 365 days, activation a
 * little in the past, basicConstraints CA:FALSE, keyUsage digitalSignature, SHA-256) and the
 * short-lived super-user certificate.
 */
import { X509Certificate as NodeX509, createPrivateKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

/**
 * @peculiar/x509, loaded the first time a CA is configured: it and its dependencies add some
 * 16 MB to the resident size of a server that never signs a certificate.
 */
let x509Module: Promise<typeof X509> | undefined;
const loadX509 = (): Promise<typeof X509> => (x509Module ??= import('@peculiar/x509'));

/** @peculiar/x509's Crypto parameter (DOM type, not in lib es2023). */
type x509Crypto = Parameters<typeof X509.X509CertificateGenerator.create>[1];

const DAY_MS = 24 * 3600 * 1000;

export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** Splits a PEM bundle into its certificates. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

interface Signer {
  cert: X509.X509Certificate;
  pem: string;
  key: webcrypto.CryptoKey;
  algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
}

export interface SignedCertificate {
  /** The new certificate followed by the CA certificate, PEM (the reply's `<certificate>`). */
  chainPem: string;
  certificate: NodeX509;
}

export class CertificateAuthority {
  private constructor(
    /** The CA certificates, PEM, for the TLS context's `ca`. */
    readonly caList: string[],
    private readonly signer: Signer | undefined,
  ) {}

  /**
   * `caListPem`: one or more CA certificates; `caKeyPem`: the key of one of them, which enables
   * certificate signing (else create-acl-account is unsupported, code 21).
   */
  static async create(caListPem: string, caKeyPem?: string): Promise<CertificateAuthority> {
    const caList = splitPemCertificates(caListPem);
    if (caList.length === 0) throw new CertificateError('The CA list does not contain any CA certificates');
    if (caKeyPem === undefined) return new CertificateAuthority(caList, undefined);
    const keyObject = createPrivateKey(caKeyPem);
    // The key must belong to one of the CAs (INFINOTED_PLUGIN_CERTIFICATE_AUTH_ERROR_NO_CA_FOR_KEY).
    const index = caList.findIndex((pem) => new NodeX509(pem).checkPrivateKey(keyObject));
    if (index < 0) throw new CertificateError('The given CA key does not match with any of the CA certificates');
    let algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
    if (keyObject.asymmetricKeyType === 'rsa') algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    else if (keyObject.asymmetricKeyType === 'ec') {
      const curve = keyObject.asymmetricKeyDetails?.namedCurve;
      const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
      if (!named) throw new CertificateError(`Unsupported CA key curve ${curve ?? '?'}`);
      algorithm = { name: 'ECDSA', namedCurve: named };
    } else {
      throw new CertificateError(`Unsupported CA key type ${keyObject.asymmetricKeyType ?? '?'}`);
    }
    const der = keyObject.export({ type: 'pkcs8', format: 'der' });
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    const pem = caList[index]!;
    const x509 = await loadX509();
    return new CertificateAuthority(caList, { cert: new x509.X509Certificate(pem), pem, key, algorithm });
  }

  get canSign(): boolean {
    return this.signer !== undefined;
  }

  /** Parses and checks a PKCS#10 request (PEM "NEW CERTIFICATE REQUEST" or "CERTIFICATE REQUEST"). */
  static async parseRequest(pem: string): Promise<{ request: X509.Pkcs10CertificateRequest; commonName: string | undefined }> {
    const x509 = await loadX509();
    const body = pem.replace(/-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g, '').replace(/\s+/g, '');
    let request: X509.Pkcs10CertificateRequest;
    try {
      if (body === '' || !/^[A-Za-z0-9+/=]+$/.test(body)) throw new Error('not base64');
      request = new x509.Pkcs10CertificateRequest(Buffer.from(body, 'base64'));
    } catch {
      throw new CertificateError('The certificate request could not be parsed');
    }
    if (!(await request.verify(webcrypto as unknown as x509Crypto))) throw new CertificateError('The certificate request has an invalid signature');
    const cn = request.subjectName.getField('CN')[0];
    return { request, commonName: cn };
  }

  /** Signs a certificate for `publicKey` with subject `subject`, valid for `validityMs`. */
  private async sign(subject: X509.Name | string, publicKey: X509.PublicKey | webcrypto.CryptoKey, validityMs: number): Promise<SignedCertificate> {
    const s = this.signer;
    if (!s) throw new CertificateError('Server does not support issuing certificates');
    const x509 = await loadX509();
    const now = Date.now();
    // A 40-bit serial from the time, like libinfinity, plus randomness against collisions.
    const serial = Math.floor(now / 1000).toString(16).padStart(10, '0') + webcrypto.getRandomValues(new Uint8Array(3)).reduce((a, b) => a + b.toString(16).padStart(2, '0'), '');
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: `01${serial}`,
      subject,
      issuer: s.cert.subjectName,
      // Activation a bit in the past so a client with a slightly late clock accepts it.
      notBefore: new Date(now - DAY_MS / 10),
      notAfter: new Date(now + validityMs),
      publicKey,
      signingKey: s.key,
      signingAlgorithm: s.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : s.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    }, webcrypto as unknown as x509Crypto);
    const pem = cert.toString('pem');
    return { chainPem: `${pem}\n${s.pem.trim()}\n`, certificate: new NodeX509(pem) };
  }

  /** create-acl-account: a certificate for the request's key and subject, valid 365 days. */
  async signRequest(request: X509.Pkcs10CertificateRequest): Promise<SignedCertificate> {
    return this.sign(request.subjectName, request.publicKey, 365 * DAY_MS);
  }

  /** The super-user credentials: a new key and a 12-hour certificate with CN "Super User". */
  async createSuperUser(): Promise<{ keyPem: string; chainPem: string; certificate: NodeX509 }> {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
    const x509 = await loadX509();
    const signed = await this.sign('CN=Super User', new x509.PublicKey(spki), 12 * 3600 * 1000);
    return { keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ...signed };
  }
}
