// TLS for the webhook: certificate files (cert-manager's Secret mounted), reloaded when they
// change, or a CA and serving certificate the controller generates itself and keeps in its
// state directory, so restarts keep the CA that the MutatingWebhookConfiguration trusts.
import { webcrypto } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
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

/** A CA and a serving certificate for the given DNS names, valid for `days`. */
export async function generateWebhookTls(dnsNames: string[], days = 3650): Promise<TlsMaterial> {
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + days * 86_400_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=sidestash webhook CA',
    notBefore: now,
    notAfter: until,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `CN=${dnsNames[0]}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter: until,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: pem('PRIVATE KEY', keyDer), caCert: ca.toString('pem') };
}

/** Loads generated TLS from `dir`, or generates and stores it (0600) on first start. */
export async function loadOrGenerateTls(dir: string, dnsNames: string[]): Promise<TlsMaterial> {
  const files = { cert: join(dir, 'webhook.crt'), key: join(dir, 'webhook.key'), caCert: join(dir, 'webhook-ca.crt') };
  try {
    const [cert, key, caCert] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8'), readFile(files.caCert, 'utf8')]);
    const c = new x509.X509Certificate(cert);
    const names = c.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON().map((n) => n.value) ?? [];
    if (c.notAfter.getTime() > Date.now() + 30 * 86_400_000 && dnsNames.every((n) => names.includes(n))) return { cert, key, caCert };
  } catch {
    // first start, or unreadable: generate below
  }
  const tls = await generateWebhookTls(dnsNames);
  await writeFile(files.key, tls.key, { mode: 0o600 });
  await writeFile(files.cert, tls.cert, { mode: 0o600 });
  await writeFile(files.caCert, tls.caCert!, { mode: 0o600 });
  return tls;
}

/** Reads certificate files, e.g. a cert-manager Secret mounted as tls.crt / tls.key. */
export async function readTlsFiles(certFile: string, keyFile: string): Promise<TlsMaterial & { mtimeMs: number }> {
  const [cert, key, st] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8'), stat(certFile)]);
  return { cert, key, mtimeMs: st.mtimeMs };
}
