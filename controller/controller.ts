// Wires the controller together: store, resources, sessions, scheduler, metrics, HTTP API. In
// Kubernetes mode (SIDESTASH_STORE=kubernetes) the store is the API server, registered agents are
// kept in memory for the current term only, the leader-only work (leader-work.ts) runs while this
// replica holds the Lease, and agent calls on a replica that does not lead answer NOT_LEADER (api/not-leader.ts).
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { openBackend } from '../common/backend/open-backend.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { adminRoutes } from './api/admin-routes.ts';
import { agentRoutes } from './api/agent-routes.ts';
import { agentTokenRoutes } from './api/agent-token-routes.ts';
import { AgentRegistry } from './agents/agent-registry.ts';
import { ArchivedConfigurations } from './binlog/archived-configurations.ts';
import { EnrolmentTokens } from './agents/enrolment-tokens.ts';
import { bearer, methodNotAllowed, requestUrl, sendError, sendJson, sha256, tokenMatches, unauthorized } from './api/http-util.ts';
import { applyListenerLimits, listenOn } from './api/listener-limits.ts';
import { keepAliveProblem, openFileLimit, openFileLimitProblem } from './api/listener-capacity.ts';
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
import { SessionManager } from './sessions/session-manager.ts';
import type { SessionStore } from './sessions/session-manager.ts';
import { logStoreOpened } from './store/store-log.ts';
import { Store } from './store/store.ts';
import { CombinedStore } from './store/combined-store.ts';
import type { ResourceStore } from './store/resource-store.ts';
import type { AgentAuthenticator } from './agents/agent-scope.ts';
import { ServiceAccountAuthenticator } from './kubernetes/service-account-identity.ts';
import type { KubeClient } from './kubernetes/kube-client.ts';
import { LeaderElector } from './kubernetes/leader-elector.ts';
import { EventRecorder } from './kubernetes/event-recorder.ts';
import { runLeaderWork } from './leader-work.ts';
import { recordSessionEvents } from './kubernetes/session-events.ts';
import { LEADER_ONLY_ADMIN_ROUTES, notLeader, setNotLeaderHeaders } from './api/not-leader.ts';
import { WebhookServer } from './webhook/webhook-server.ts';

/** Kubernetes mode's parts, built from config.kubernetes (kubernetes/kubernetes-parts.ts). */
export interface KubernetesParts {
  client: KubeClient;
  /** The resources on the API server; start() lists and watches until its signal aborts and resolves once the first lists are in. */
  store: ResourceStore & { start(signal: AbortSignal): Promise<void> };
}

export class Controller {
  readonly config: ControllerConfig;
  readonly log: Logger;
  readonly store: SessionStore;
  /** The sqlite file (sqlite mode), or the in-memory agent directory of Kubernetes mode. */
  readonly local: Store;
  /** Kubernetes mode only. */
  readonly kube: (KubernetesParts & { elector: LeaderElector; events: EventRecorder }) | undefined;
  readonly #stopping = new AbortController();
  #electing: Promise<void> | undefined;
  readonly resources: ResourceService;
  readonly sessions: SessionManager;
  readonly scheduler: Scheduler;
  readonly metrics: ControllerMetrics;
  readonly agentTokens: EnrolmentTokens;
  readonly agents: AgentRegistry;
  /** The configurations that archive their binlog, for the agents' archive syncs (archived-configurations.ts). */
  readonly archivedConfigurations: ArchivedConfigurations;
  /** Long-polls waiting (waitForChange): for any change, and by target. */
  readonly #anyWaiters = new Set<() => void>();
  readonly #targetWaiters = new Map<string, Set<() => void>>();
  readonly #routes: Route[];
  #server: Server | HttpsServer | undefined;
  #stopListener: (() => void) | undefined;
  readonly webhook: WebhookServer | undefined;
  /** Pushes session metrics when SIDESTASH_PUSHGATEWAY_URL is set. */
  readonly pushgateway: PushgatewayPublisher | undefined;

  constructor(config: ControllerConfig, log: Logger, kube?: KubernetesParts) {
    this.config = config;
    this.log = log;
    if (config.store === 'kubernetes') {
      if (!kube || !config.kubernetes) throw new SidestashError(ErrorCodes.INVALID_CONFIG, 'SIDESTASH_STORE=kubernetes: the controller was started without its Kubernetes client and store');
      // Agents (and enrolment tokens, unused in this mode) live in memory on the leader: combined-store.ts.
      this.local = new Store(':memory:');
      this.store = new CombinedStore(kube.store, this.local);
      const le = config.kubernetes.leaderElection;
      const elector = new LeaderElector(kube.client, {
        namespace: le.namespace, name: le.name, identity: le.identity, leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs,
        // A term's agents are its own (AgentRegistry.forgetAll): they register again with each new term.
        onStartedLeading: (signal) => {
          this.agents.forgetAll();
          void this.#leaderWork(signal).catch((err: unknown) => this.log.error('leader work failed', { err: errorMessage(err) }));
        },
        onStoppedLeading: () => this.agents.forgetAll(),
        log: log.child({ component: 'leader-election', lease: `${le.namespace}/${le.name}`, identity: le.identity }),
      });
      this.kube = { ...kube, elector, events: new EventRecorder(kube.client, { component: 'sidestash-controller', instance: le.identity, log: log.child({ component: 'events' }) }) };
    } else {
      this.local = new Store(config.databasePath, config.secretEncryptionKey ? { encryptionKey: config.secretEncryptionKey } : {});
      this.store = this.local;
      this.kube = undefined;
      logStoreOpened(this.local, log);
    }
    this.sessions = new SessionManager(this.store, log.child({ component: 'sessions' }), { leaseMs: config.leaseMs, pendingTimeoutMs: config.pendingTimeoutMs });
    // Kubernetes mode: session starts and ends as Events for kubectl describe (never blocking).
    if (this.kube) recordSessionEvents(this.sessions, this.store, this.kube.events, log.child({ component: 'events' }));
    this.resources = new ResourceService(this.store, (r, change) => {
      if (change === 'deleted' && (r.kind === 'BackupConfiguration' || r.kind === 'RestoreSession')) void this.pushgateway?.invokerDeleted(r.kind, r.metadata.namespace, r.metadata.name);
      // Kubernetes mode: the leader hears of every change from the store's watch (leader-work.ts).
      if (r.kind === 'BackupConfiguration' && !this.kube) return this.#configurationChanged(r.metadata.namespace, r.metadata.name, change);
    });
    // A session that becomes claimable wakes the long-polls of its target's agents (waitForChange; pending-sessions.ts).
    this.sessions.pending.onClaimable((target) => this.#wake(target));
    this.archivedConfigurations = new ArchivedConfigurations(this.store);
    this.scheduler = new Scheduler(this.store, this.sessions, log.child({ component: 'scheduler' }), { maxJitterMs: config.scheduleJitterMs });
    this.metrics = createMetrics(this.store, config.leaseMs);
    this.sessions.on('finished', (s) => this.metrics.sessionsFinished.inc({ kind: s.kind, phase: s.status?.phase ?? 'Failed' }));
    if (config.pushgatewayUrl) {
      const publisher = new PushgatewayPublisher(new PushgatewayClient(config.pushgatewayUrl), this.store, log.child({ component: 'pushgateway' }));
      this.pushgateway = publisher;
      this.sessions.on('finished', (s) => {
        if (this.isLeader) void publisher.sessionFinished(s as AnySession);
      });
      this.sessions.on('progress', (s) => void publisher.sessionProgress(s as AnySession));
    }
    this.agentTokens = new EnrolmentTokens(this.local, config.agentTokens, log.child({ component: 'agents' }));
    const authenticator: AgentAuthenticator = this.kube ? new ServiceAccountAuthenticator(this.kube.client, { log: log.child({ component: 'agent-identity' }) }) : this.agentTokens;
    this.agents = new AgentRegistry(this.local, this.sessions, authenticator, config.leaseMs, log.child({ component: 'agents' }));
    this.#routes = [...agentRoutes(this), ...agentTokenRoutes(this), ...adminRoutes(this)];
    if (config.webhook) this.webhook = new WebhookServer(config.webhook, log.child({ component: 'webhook' }));
  }

  /** Whether this replica does the leader's work (always in sqlite mode). */
  get isLeader(): boolean {
    return this.kube ? this.kube.elector.leading : !this.#stopping.signal.aborted;
  }

  #leaderWork(signal: AbortSignal): Promise<void> {
    const le = this.config.kubernetes?.leaderElection;
    return runLeaderWork(this, signal, {
      sweepIntervalMs: this.config.sweepIntervalMs,
      ...(le ? { kubernetes: { catchUpWindowMs: Math.max(60_000, 2 * le.leaseDurationMs), onConfigurationChanged: (ns, name, change) => this.#configurationChanged(ns, name, change) } } : {}),
    });
  }

  /** A BackupConfiguration was applied or deleted: its schedule follows; deleted, its sessions end. Leader only. */
  async #configurationChanged(namespace: string, name: string, change: 'applied' | 'deleted'): Promise<void> {
    if (!this.isLeader) return;
    try {
      if (change === 'deleted') await this.sessions.endSessionsOf(namespace, name);
      await this.scheduler.sync();
      if (!this.isLeader) this.scheduler.stop();
    } catch (err) {
      this.log.error('applying a BackupConfiguration change failed', { configuration: `${namespace}/${name}`, err: errorMessage(err) });
    }
  }

  /** Resolves when a session of one of `targets` may have become claimable, or after timeoutMs. */
  waitForChange(timeoutMs: number, signal: AbortSignal, targets: readonly string[] = []): Promise<void> {
    // Sets, not an EventEmitter: thousands of polls wait at once, and removing one of n listeners
    // of an event scans them all (and once() with a signal made an AbortError for each wait).
    return new Promise<void>((resolve) => {
      const sets = [this.#anyWaiters, ...targets.map((t) => this.#targetWaiters.get(t) ?? this.#targetWaiters.set(t, new Set()).get(t)!)];
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        targets.forEach((t, i) => {
          const set = sets[i + 1]!;
          set.delete(done);
          if (set.size === 0 && this.#targetWaiters.get(t) === set) this.#targetWaiters.delete(t);
        });
        this.#anyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      if (signal.aborted) return done();
      signal.addEventListener('abort', done, { once: true });
      for (const set of sets) set.add(done);
    });
  }

  /** Wakes the polls waiting for `target` (undefined: every poll). */
  #wake(target: string | undefined): void {
    const waiting = target === undefined ? [...this.#anyWaiters, ...[...this.#targetWaiters.values()].flatMap((s) => [...s])] : [...(this.#targetWaiters.get(target) ?? [])];
    for (const done of waiting) done();
  }

  async listSnapshots(namespace: string, name: string, _spec: RepositorySpec, signal: AbortSignal): Promise<Snapshot[]> {
    const access = await repositoryAccess(this.store, namespace, name, `Repository ${namespace}/${name}`);
    const repo = await Repository.open(await openBackend(access.location, access.credentials), access.password, { signal });
    return listSnapshots(repo, { signal });
  }

  async start(): Promise<{ host: string; port: number; webhookPort?: number }> {
    for (const setting of this.config.deprecated) this.log.warn(`deprecated setting: ${setting}`);
    if (this.kube) {
      // The resources first (the leader's work reads them), then the campaign for the Lease.
      await this.kube.store.start(this.#stopping.signal);
      this.#electing = this.kube.elector.run(this.#stopping.signal);
      this.log.info('Kubernetes mode', { server: this.kube.client.connection.server, source: this.kube.client.connection.source, namespaces: this.config.kubernetes!.watchNamespaces.length ? this.config.kubernetes!.watchNamespaces : 'all', identity: this.kube.elector.identity });
    } else {
      await this.#leaderWork(this.#stopping.signal);
    }
    if (this.config.pushgatewayUrl) this.log.info('pushing session metrics', { pushgateway: this.config.pushgatewayUrl });
    const listener = await createApiServer(this.config.tls, (req, res) => void this.#handle(req, res), this.log);
    if (this.config.webhook && listener.caCert) this.config.webhook.injection.controllerCaCert = listener.caCert;
    this.#server = listener.server;
    this.#stopListener = listener.stop;
    applyListenerLimits(this.#server, this.config.limits, this.log, 'api');
    for (const problem of [openFileLimitProblem(await openFileLimit(), this.config.limits.maxConnections), keepAliveProblem(this.config.limits.keepAliveTimeoutMs, Math.floor(this.config.leaseMs / 3))]) {
      if (problem) this.log.warn(problem);
    }
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
        // Only the leader creates and assigns sessions (not-leader.ts); the rest of the admin API works on every replica.
        if (isAgentRoute && !this.isLeader) throw notLeader(this.kube?.elector.holder ?? '');
        if (LEADER_ONLY_ADMIN_ROUTES.has(m.route.name) && !this.isLeader) throw notLeader(this.kube?.elector.holder ?? '', 'sessions are created by the leader');
        await m.route.handler({ req, res, params: m.params, query: url.searchParams, signal: ac.signal });
      }
    } catch (err) {
      if (!(err instanceof SidestashError)) this.log.error('request failed', { method: req.method, path: url.pathname, err: errorMessage(err) });
      if (!res.headersSent) {
        if (isSidestashError(err, ErrorCodes.NOT_LEADER)) setNotLeaderHeaders(res);
        sendError(res, err);
      }
      else res.destroy();
    } finally {
      this.metrics.httpRequests.inc({ method: req.method ?? '', route: routeName, code: String(res.statusCode) });
      this.metrics.httpDuration.observe({ method: req.method ?? '', route: routeName }, (performance.now() - started) / 1000);
    }
  }

  async stop(): Promise<void> {
    // Leader work is told to stop first (no new work starts; leader-work.ts), then the Lease is released.
    this.#stopping.abort();
    await this.#electing;
    await this.kube?.events.flush();
    this.#stopListener?.();
    await this.webhook?.stop();
    this.scheduler.stop();
    await this.pushgateway?.stop();
    if (this.#server) {
      this.#server.closeAllConnections();
      await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    }
    this.store.close();
    if (this.kube) this.local.close();
  }
}
