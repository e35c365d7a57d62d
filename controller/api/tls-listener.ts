// The API listener: HTTPS with a given certificate (SIDESTASH_TLS_CERT_FILE and
// SIDESTASH_TLS_KEY_FILE, re-read when they change; or the PEM inline in SIDESTASH_TLS_CERT
// and SIDESTASH_TLS_KEY), or with a CA and certificate the controller generates and keeps in
// its state directory (api-ca.crt is what agents and the CLI trust). Plain HTTP only with
// SIDESTASH_INSECURE_HTTP=true, and then with a warning in the log.
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import type { EnvReader } from '../../common/config-env.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { loadOrGenerateTls, readTlsFiles } from '../webhook/webhook-tls.ts';

export type ApiTlsConfig =
  | { mode: 'files'; cert: string; privateKey: string; caCert?: string; files?: { certFile: string; keyFile: string } }
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
    const env = { cert: r.env('SIDESTASH_TLS_CERT_FILE'), key: r.env('SIDESTASH_TLS_KEY_FILE') };
    return { mode: 'files', cert, privateKey, ...(caCert ? { caCert } : {}), ...(env.cert && env.key ? { files: { certFile: env.cert, keyFile: env.key } } : {}) };
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
  /** Stops reloading certificate files. */
  stop(): void;
}

const RELOAD_INTERVAL_MS = 30_000;

/** Re-reads certificate files when they change (cert-manager renews them in place). */
function reloadWhenChanged(server: HttpsServer, files: { certFile: string; keyFile: string }, log: Logger, intervalMs: number): () => void {
  let mtimeMs: number | undefined;
  void readTlsFiles(files.certFile, files.keyFile).then((f) => (mtimeMs ??= f.mtimeMs), () => undefined);
  const timer = setInterval(() => {
    readTlsFiles(files.certFile, files.keyFile)
      .then((f) => {
        if (f.mtimeMs === mtimeMs) return;
        mtimeMs = f.mtimeMs;
        server.setSecureContext({ cert: f.cert, key: f.key, minVersion: 'TLSv1.2' });
        log.info('API certificate reloaded', { certFile: files.certFile });
      })
      .catch((err: unknown) => log.warn('API certificate reload failed; serving the previous one', { err: errorMessage(err) }));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export async function createApiServer(tls: ApiTlsConfig, handler: (req: IncomingMessage, res: ServerResponse) => void, log: Logger, options: { reloadIntervalMs?: number } = {}): Promise<ApiListener> {
  if (tls.mode === 'insecure-http') {
    log.warn('SIDESTASH_INSECURE_HTTP=true: the API is served over plain HTTP; tokens and database credentials cross the network unencrypted');
    return { server: createHttpServer(handler), scheme: 'http', stop: () => undefined };
  }
  if (tls.mode === 'files') {
    const server = createHttpsServer({ cert: tls.cert, key: tls.privateKey, minVersion: 'TLSv1.2' }, handler);
    const stop = tls.files ? reloadWhenChanged(server, tls.files, log, options.reloadIntervalMs ?? RELOAD_INTERVAL_MS) : () => undefined;
    return { server, scheme: 'https', ...(tls.caCert ? { caCert: tls.caCert } : {}), stop };
  }
  const material = await loadOrGenerateTls(tls.stateDir, tls.dnsNames, { prefix: 'api', caName: 'sidestash controller CA' });
  const server = createHttpsServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, handler);
  return { server, scheme: 'https', caCert: material.caCert!, caFile: join(tls.stateDir, GENERATED_CA_FILE), stop: () => undefined };
}
