// The HTTPS listener of the admission webhook (Kubernetes calls webhooks over TLS only).
// Certificate files are re-read when they change (cert-manager renews them in place).
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { sendJson } from '../api/http-util.ts';
import { DEFAULT_LISTENER_LIMITS, applyListenerLimits, listenOn } from '../api/listener-limits.ts';
import type { ListenerLimits } from '../api/listener-limits.ts';
import { handleAdmission } from './admission.ts';
import type { InjectionConfig } from './injector.ts';
import { inClusterAccess, publishCaBundle } from './ca-bundle-publisher.ts';
import { loadOrGenerateTls, readTlsFiles } from './webhook-tls.ts';
import type { TlsMaterial } from './webhook-tls.ts';

export interface WebhookConfig {
  listen: { host: string; port: number };
  injection: InjectionConfig;
  /** cert-manager (or any) certificate files; without them the controller generates its own. */
  certFile?: string;
  keyFile?: string;
  /** Generated mode: DNS names of the webhook Service, and where to keep the material. */
  dnsNames: string[];
  stateDir: string;
  /** Generated mode: the MutatingWebhookConfiguration whose caBundle the controller keeps current. */
  configurationName?: string;
  /** Timeouts and connection cap (the controller's SIDESTASH_* limits). */
  limits?: ListenerLimits;
}

export class WebhookServer {
  readonly #config: WebhookConfig;
  readonly #log: Logger;
  #server: Server | undefined;
  #reload: NodeJS.Timeout | undefined;
  /** The CA clients must trust (generated mode). */
  caCert: string | undefined;

  constructor(config: WebhookConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  async start(): Promise<{ port: number }> {
    const c = this.#config;
    let tls: TlsMaterial;
    let mtimeMs = 0;
    if (c.certFile && c.keyFile) {
      const files = await readTlsFiles(c.certFile, c.keyFile);
      tls = files;
      mtimeMs = files.mtimeMs;
    } else {
      tls = await loadOrGenerateTls(c.stateDir, c.dnsNames);
      this.caCert = tls.caCert;
      if (c.configurationName) {
        try {
          const n = await publishCaBundle(await inClusterAccess(), c.configurationName, tls.caCert!);
          this.#log.info('webhook CA published', { configuration: c.configurationName, webhooksUpdated: n });
        } catch (err) {
          this.#log.error('could not publish the webhook CA; injection will fail until it is', { err: errorMessage(err) });
        }
      }
    }
    const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/mutate') void handleAdmission(req, res, c.injection, this.#log);
      else if (path === '/healthz') sendJson(res, 200, { ok: true });
      else sendJson(res, 404, { error: { code: 'SIDESTASH_NOT_FOUND', message: `no route for ${path}` } });
    });
    if (c.certFile && c.keyFile) {
      this.#reload = setInterval(() => {
        readTlsFiles(c.certFile!, c.keyFile!)
          .then((f) => {
            if (f.mtimeMs === mtimeMs) return;
            mtimeMs = f.mtimeMs;
            server.setSecureContext({ cert: f.cert, key: f.key });
            this.#log.info('webhook certificate reloaded');
          })
          .catch((err: unknown) => this.#log.warn('webhook certificate reload failed', { err: errorMessage(err) }));
      }, 30_000);
      this.#reload.unref();
    }
    applyListenerLimits(server, c.limits ?? DEFAULT_LISTENER_LIMITS, this.#log, 'webhook');
    const { port } = await listenOn(server, c.listen, this.#log, 'webhook');
    this.#server = server;
    this.#log.info('webhook listening', { port, tls: c.certFile ? 'files' : 'generated' });
    return { port };
  }

  async stop(): Promise<void> {
    clearInterval(this.#reload);
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }
}
