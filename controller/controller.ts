// Wires the controller together: store, resources, sessions, scheduler, metrics, HTTP API.
import { EventEmitter, once } from 'node:events';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { openBackend } from '../common/backend/open-backend.ts';
import { ErrorCodes, SidestashError, errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { adminRoutes } from './api/admin-routes.ts';
import { agentRoutes } from './api/agent-routes.ts';
import { agentTokenRoutes } from './api/agent-token-routes.ts';
import { AgentRegistry } from './agents/agent-registry.ts';
import { EnrolmentTokens } from './agents/enrolment-tokens.ts';
import { bearer, methodNotAllowed, requestUrl, sendError, sendJson, sha256, tokenMatches, unauthorized } from './api/http-util.ts';
import { applyListenerLimits, listenOn } from './api/listener-limits.ts';
import { runtimeName } from '../common/runtime.ts';
import { openApiDocument } from './api/openapi.ts';
import { createApiServer } from './api/tls-listener.ts';
import { match } from './api/router.ts';
import type { Route } from './api/router.ts';
import type { ControllerConfig } from './config.ts';
import { createMetrics } from './metrics.ts';
import type { ControllerMetrics } from './metrics.ts';
import { ResourceService } from './resources/resource-service.ts';
import type { RepositorySpec } from './resources/types.ts';
import { PushgatewayClient } from './pushgateway/pushgateway-client.ts';
import { PushgatewayPublisher } from './pushgateway/publisher.ts';
import type { AnySession } from './pushgateway/session-facts.ts';
import { Scheduler } from './scheduler.ts';
import { repositoryAccess } from './sessions/assignment.ts';
import { backfillConfigurationStatus } from './sessions/configuration-backfill.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { logStoreOpened } from './store/store-log.ts';
import { Store } from './store/store.ts';
import { WebhookServer } from './webhook/webhook-server.ts';

export class Controller {
  readonly config: ControllerConfig;
  readonly log: Logger;
  readonly store: Store;
  readonly resources: ResourceService;
  readonly sessions: SessionManager;
  readonly scheduler: Scheduler;
  readonly metrics: ControllerMetrics;
  readonly agentTokens: EnrolmentTokens;
  readonly agents: AgentRegistry;
  readonly #changes = new EventEmitter();
  readonly #routes: Route[];
  #server: Server | HttpsServer | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #stopListener: (() => void) | undefined;
  readonly webhook: WebhookServer | undefined;
  /** Pushes session metrics when SIDESTASH_PUSHGATEWAY_URL is set. */
  readonly pushgateway: PushgatewayPublisher | undefined;

  constructor(config: ControllerConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.store = new Store(config.databasePath, config.secretEncryptionKey ? { encryptionKey: config.secretEncryptionKey } : {});
    logStoreOpened(this.store, log);
    this.sessions = new SessionManager(this.store, log.child({ component: 'sessions' }), { leaseMs: config.leaseMs, pendingTimeoutMs: config.pendingTimeoutMs });
    this.resources = new ResourceService(this.store, (r, change) => {
      if (change === 'deleted' && (r.kind === 'BackupConfiguration' || r.kind === 'RestoreSession')) void this.pushgateway?.invokerDeleted(r.kind, r.metadata.namespace, r.metadata.name);
      if (r.kind === 'BackupConfiguration') return this.#configurationChanged(r.metadata.namespace, r.metadata.name, change);
    });
    // Every stored write wakes the long-polls (waitForChange).
    this.store.watch(() => this.#changes.emit('change'));
    this.scheduler = new Scheduler(this.store, this.sessions, log.child({ component: 'scheduler' }));
    this.metrics = createMetrics(this.store, config.leaseMs);
    this.sessions.on('finished', (s) => this.metrics.sessionsFinished.inc({ kind: s.kind, phase: s.status?.phase ?? 'Failed' }));
    if (config.pushgatewayUrl) {
      const publisher = new PushgatewayPublisher(new PushgatewayClient(config.pushgatewayUrl), this.store, log.child({ component: 'pushgateway' }));
      this.pushgateway = publisher;
      this.sessions.on('finished', (s) => void publisher.sessionFinished(s as AnySession));
      this.sessions.on('progress', (s) => void publisher.sessionProgress(s as AnySession));
    }
    this.#changes.setMaxListeners(0);
    this.agentTokens = new EnrolmentTokens(this.store, config.agentTokens, log.child({ component: 'agents' }));
    this.agents = new AgentRegistry(this.store, this.sessions, this.agentTokens, config.leaseMs, log.child({ component: 'agents' }));
    this.#routes = [...agentRoutes(this), ...agentTokenRoutes(this), ...adminRoutes(this)];
    if (config.webhook) this.webhook = new WebhookServer(config.webhook, log.child({ component: 'webhook' }));
  }

  /** A BackupConfiguration was applied or deleted: its schedule follows; deleted, its sessions end. */
  async #configurationChanged(namespace: string, name: string, change: 'applied' | 'deleted'): Promise<void> {
    try {
      if (change === 'deleted') await this.sessions.endSessionsOf(namespace, name);
      await this.scheduler.sync();
    } catch (err) {
      this.log.error('applying a BackupConfiguration change failed', { configuration: `${namespace}/${name}`, err: errorMessage(err) });
    }
  }

  /** Resolves after the next change to sessions or resources, or after timeoutMs. */
  async waitForChange(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await once(this.#changes, 'change', { signal: ac.signal });
    } catch {
      // timeout or client gone
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async listSnapshots(namespace: string, name: string, _spec: RepositorySpec, signal: AbortSignal): Promise<Snapshot[]> {
    const access = await repositoryAccess(this.store, namespace, name, `Repository ${namespace}/${name}`);
    const repo = await Repository.open(await openBackend(access.location, access.credentials), access.password, { signal });
    return listSnapshots(repo, { signal });
  }

  async start(): Promise<{ host: string; port: number; webhookPort?: number }> {
    for (const setting of this.config.deprecated) this.log.warn(`deprecated setting: ${setting}`);
    const backfilled = await backfillConfigurationStatus(this.store);
    if (backfilled > 0) this.log.info('configuration outcomes rebuilt from session history', { configurations: backfilled });
    await this.sessions.sweep();
    await this.resources.refreshReferences();
    await this.scheduler.sync();
    void this.pushgateway?.reconcile();
    let sweeping = false;
    this.#sweeper = setInterval(() => {
      if (sweeping) return; // the previous sweep is still running
      sweeping = true;
      void (async () => {
        try {
          await this.sessions.sweep();
          await this.pushgateway?.reconcile();
        } catch (err) {
          this.log.error('session sweep failed', { err: errorMessage(err) });
        } finally {
          sweeping = false;
        }
      })();
    }, this.config.sweepIntervalMs);
    if (this.config.pushgatewayUrl) this.log.info('pushing session metrics', { pushgateway: this.config.pushgatewayUrl });
    const listener = await createApiServer(this.config.tls, (req, res) => void this.#handle(req, res), this.log);
    if (this.config.webhook && listener.caCert) this.config.webhook.injection.controllerCaCert = listener.caCert;
    this.#server = listener.server;
    this.#stopListener = listener.stop;
    applyListenerLimits(this.#server, this.config.limits, this.log, 'api');
    const addr = await listenOn(this.#server, this.config.listen, this.log, 'api');
    this.log.info('controller listening', { host: addr.address, port: addr.port, scheme: listener.scheme, ...(listener.caFile ? { caFile: listener.caFile } : {}), database: this.config.databasePath, runtime: runtimeName() });
    if (this.webhook) return { host: addr.address, port: addr.port, webhookPort: (await this.webhook.start()).port };
    return { host: addr.address, port: addr.port };
  }

  async #handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const started = performance.now();
    const url = requestUrl(req.url);
    if (!url) return sendError(res, new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'malformed request target'));
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    let routeName = 'unmatched';
    try {
      const fixed = ['/healthz', '/readyz', '/openapi.json', '/metrics'].includes(url.pathname);
      if (fixed && req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(req.method, url.pathname, ['GET', 'HEAD']);
      if (url.pathname === '/healthz' || url.pathname === '/readyz') {
        routeName = url.pathname;
        sendJson(res, 200, { ok: true });
      } else if (url.pathname === '/openapi.json') {
        routeName = '/openapi.json';
        sendJson(res, 200, openApiDocument());
      } else if (url.pathname === '/metrics') {
        routeName = '/metrics';
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text);
      } else {
        const m = match(this.#routes, req.method ?? 'GET', url.pathname);
        if (m === undefined) throw new SidestashError(ErrorCodes.NOT_FOUND, `no route for ${url.pathname}`);
        if ('allow' in m) throw methodNotAllowed(req.method, url.pathname, m.allow);
        routeName = m.route.name;
        const isAgentRoute = m.route.name.startsWith('/api/v1/agents/') ;
        if (!isAgentRoute && !tokenMatches(bearer(req), sha256(this.config.adminToken))) throw unauthorized();
        await m.route.handler({ req, res, params: m.params, query: url.searchParams, signal: ac.signal });
      }
    } catch (err) {
      if (!(err instanceof SidestashError)) this.log.error('request failed', { method: req.method, path: url.pathname, err: errorMessage(err) });
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    } finally {
      this.metrics.httpRequests.inc({ method: req.method ?? '', route: routeName, code: String(res.statusCode) });
      this.metrics.httpDuration.observe({ method: req.method ?? '', route: routeName }, (performance.now() - started) / 1000);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#stopListener?.();
    await this.webhook?.stop();
    this.scheduler.stop();
    await this.pushgateway?.stop();
    if (this.#server) {
      this.#server.closeAllConnections();
      await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    }
    this.store.close();
  }
}
