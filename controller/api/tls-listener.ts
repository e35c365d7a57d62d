// The API listener: HTTPS with a given certificate (SIDESTASH_TLS_CERT_FILE and
// SIDESTASH_TLS_KEY_FILE, or the PEM inline in SIDESTASH_TLS_CERT / SIDESTASH_TLS_KEY), or
// with a CA and certificate the controller generates and keeps in its state directory
// (api-ca.crt is what agents and the CLI trust). Plain HTTP only with
// SIDESTASH_INSECURE_HTTP=true, and then with a warning in the log.
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import type { EnvReader } from '../../common/config-env.ts';
import type { Logger } from '../../common/log.ts';
import { loadOrGenerateTls } from '../webhook/webhook-tls.ts';

export type ApiTlsConfig =
  | { mode: 'files'; cert: string; privateKey: string; caCert?: string }
  | { mode: 'generated'; dnsNames: string[]; stateDir: string }
  | { mode: 'insecure-http' };

export const GENERATED_CA_FILE = 'api-ca.crt';

function checkPem(r: EnvReader, name: string, pem: string, what: 'certificate' | 'key'): void {
  if (what === 'key') {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) r.problems.push(`${name}: not a PEM private key`);
    return;
  }
  try {
    new X509Certificate(pem);
  } catch (err) {
    r.problems.push(`${name}: not a PEM certificate (${(err as Error).message})`);
  }
}

export function parseApiTls(r: EnvReader, stateDir: string): ApiTlsConfig {
  const insecure = r.flag('SIDESTASH_INSECURE_HTTP');
  const cert = r.string('SIDESTASH_TLS_CERT');
  const privateKey = r.string('SIDESTASH_TLS_KEY');
  const caCert = r.string('SIDESTASH_TLS_CA');
  if (insecure) {
    if (cert || privateKey) r.problems.push('SIDESTASH_INSECURE_HTTP: set to true together with SIDESTASH_TLS_CERT_FILE/SIDESTASH_TLS_KEY_FILE; choose one');
    return { mode: 'insecure-http' };
  }
  if (cert !== undefined || privateKey !== undefined) {
    if (cert === undefined || privateKey === undefined) {
      r.problems.push('SIDESTASH_TLS_CERT_FILE and SIDESTASH_TLS_KEY_FILE: set both, or neither to let the controller generate a CA and certificate');
      return { mode: 'insecure-http' };
    }
    checkPem(r, 'SIDESTASH_TLS_CERT_FILE', cert, 'certificate');
    checkPem(r, 'SIDESTASH_TLS_KEY_FILE', privateKey, 'key');
    if (caCert !== undefined) checkPem(r, 'SIDESTASH_TLS_CA_FILE', caCert, 'certificate');
    return { mode: 'files', cert, privateKey, ...(caCert ? { caCert } : {}) };
  }
  if (caCert !== undefined) r.problems.push('SIDESTASH_TLS_CA_FILE: only with SIDESTASH_TLS_CERT_FILE and SIDESTASH_TLS_KEY_FILE (a generated CA is in the state directory)');
  const dnsNames = r.list('SIDESTASH_TLS_DNS_NAMES');
  return { mode: 'generated', dnsNames: dnsNames.length > 0 ? dnsNames : ['localhost'], stateDir };
}

export interface ApiListener {
  server: HttpServer | HttpsServer;
  scheme: 'https' | 'http';
  /** The CA agents should trust (generated mode, or SIDESTASH_TLS_CA_FILE). */
  caCert?: string;
  /** Generated mode: the file holding caCert. */
  caFile?: string;
}

export async function createApiServer(tls: ApiTlsConfig, handler: (req: IncomingMessage, res: ServerResponse) => void, log: Logger): Promise<ApiListener> {
  if (tls.mode === 'insecure-http') {
    log.warn('SIDESTASH_INSECURE_HTTP=true: the API is served over plain HTTP; tokens and database credentials cross the network unencrypted');
    return { server: createHttpServer(handler), scheme: 'http' };
  }
  if (tls.mode === 'files') {
    return { server: createHttpsServer({ cert: tls.cert, key: tls.privateKey, minVersion: 'TLSv1.2' }, handler), scheme: 'https', ...(tls.caCert ? { caCert: tls.caCert } : {}) };
  }
  const material = await loadOrGenerateTls(tls.stateDir, tls.dnsNames, { prefix: 'api', caName: 'sidestash controller CA' });
  return { server: createHttpsServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, handler), scheme: 'https', caCert: material.caCert!, caFile: join(tls.stateDir, GENERATED_CA_FILE) };
}
