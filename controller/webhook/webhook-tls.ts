// TLS for the webhook and the API: certificate files (cert-manager's Secret mounted), reloaded
// when they change, or a CA and serving certificate the controller generates itself and keeps
// in its state directory, so restarts keep the CA that the MutatingWebhookConfiguration (or
// the agents) trust.
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TlsMaterial {
  cert: string;
  key: string;
  /** CA bundle to publish in the webhook configuration (generated mode). */
  caCert?: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export interface GenerateOptions {
  /** Subject CN of a new CA. */
  caName?: string;
  /** Validity of new certificates. */
  days?: number;
  /** Signs with this CA (PEM certificate and PKCS#8 key) instead of a new one. */
  ca?: { cert: string; key: string };
}

async function importCaKey(pkcs8Pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pkcs8Pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

/** A CA (new, or the given one) and a serving certificate for the DNS names (and 127.0.0.1). */
export async function generateWebhookTls(dnsNames: string[], days = 3650, options: GenerateOptions = {}): Promise<TlsMaterial & { caKey: string }> {
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + (options.days ?? days) * 86_400_000);
  let ca: x509.X509Certificate;
  let caSigningKey: webcrypto.CryptoKey;
  let caKeyPem: string;
  if (options.ca) {
    ca = new x509.X509Certificate(options.ca.cert);
    caSigningKey = await importCaKey(options.ca.key);
    caKeyPem = options.ca.key;
  } else {
    const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${options.caName ?? 'sidestash webhook CA'}`,
      notBefore: now,
      notAfter: until,
      keys: caKeys,
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    caSigningKey = caKeys.privateKey;
    caKeyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', caKeys.privateKey));
  }
  const leafUntil = new Date(Math.min(until.getTime(), ca.notAfter.getTime()));
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `CN=${dnsNames[0]}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter: leafUntil,
    publicKey: keys.publicKey,
    signingKey: caSigningKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: pem('PRIVATE KEY', keyDer), caCert: ca.toString('pem'), caKey: caKeyPem };
}

const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Loads generated TLS from `dir`, or generates and stores it (0600) on first start. Files are
 * <prefix>.crt, <prefix>.key, <prefix>-ca.crt and <prefix>-ca.key; a new serving certificate
 * (other names, near expiry) is signed by the kept CA, so clients keep trusting it.
 */
export async function loadOrGenerateTls(dir: string, dnsNames: string[], options: { prefix?: string; caName?: string } = {}): Promise<TlsMaterial> {
  const prefix = options.prefix ?? 'webhook';
  const files = { cert: join(dir, `${prefix}.crt`), key: join(dir, `${prefix}.key`), caCert: join(dir, `${prefix}-ca.crt`), caKey: join(dir, `${prefix}-ca.key`) };
  const read = (f: string): Promise<string | undefined> => readFile(f, 'utf8').catch(() => undefined);
  const [cert, key, caCert, caKey] = await Promise.all([read(files.cert), read(files.key), read(files.caCert), read(files.caKey)]);
  try {
    if (cert && key && caCert) {
      const c = new x509.X509Certificate(cert);
      const names = c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON().map((n) => n.value) ?? [];
      if (c.notAfter.getTime() > Date.now() + RENEW_BEFORE_MS && dnsNames.every((n) => names.includes(n))) return { cert, key, caCert };
    }
  } catch {
    // unreadable: generate below
  }
  let keep: { cert: string; key: string } | undefined;
  try {
    if (caCert && caKey && new x509.X509Certificate(caCert).notAfter.getTime() > Date.now() + RENEW_BEFORE_MS) keep = { cert: caCert, key: caKey };
  } catch {
    keep = undefined;
  }
  const tls = await generateWebhookTls(dnsNames, 3650, { ...(options.caName ? { caName: options.caName } : {}), ...(keep ? { ca: keep } : {}) });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // writeFile's mode applies only to a file it creates: an existing (e.g. older, looser) file
  // keeps its mode unless it is set again.
  for (const [path, text] of [[files.caKey, tls.caKey], [files.key, tls.key], [files.cert, tls.cert], [files.caCert, tls.caCert!]] as const) {
    await writeFile(path, text, { mode: 0o600 });
    await chmod(path, 0o600);
  }
  return { cert: tls.cert, key: tls.key, caCert: tls.caCert! };
}

/** Reads certificate files, e.g. a cert-manager Secret mounted as tls.crt / tls.key. */
export async function readTlsFiles(certFile: string, keyFile: string): Promise<TlsMaterial & { mtimeMs: number }> {
  const [cert, key, st] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8'), stat(certFile)]);
  return { cert, key, mtimeMs: st.mtimeMs };
}
