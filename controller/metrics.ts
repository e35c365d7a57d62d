// Controller metrics on /metrics (prom-client): sessions by kind and phase, agents, API requests,
// and the per-configuration, repository, session-age and per-agent gauges of metrics/store-gauges.ts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerEventLoopBusy } from './metrics/event-loop-busy.ts';
import { perScrape } from './metrics/per-scrape.ts';
import { SESSION_KINDS } from './metrics/session-ages.ts';
import { registerStoreGauges } from './metrics/store-gauges.ts';
import type { SessionStatus } from './resources/types.ts';
import type { AgentDirectory } from './store/agent-directory.ts';
import type { ResourceStore } from './store/resource-store.ts';
import { isAgentOnline } from './agents/agent-online.ts';

export interface ControllerMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'code'>;
  httpDuration: Histogram<'method' | 'route'>;
  sessionsFinished: Counter<'kind' | 'phase'>;
}

export function createMetrics(store: ResourceStore & AgentDirectory, agentOnlineMs: number, now: () => number = Date.now): ControllerMetrics {
  const registry = new Registry();
  // The sessions, read once per scrape for the per-phase counts and the oldest ages (store-gauges.ts).
  const sessions = perScrape(() => Promise.all(SESSION_KINDS.map((k) => store.list<unknown, SessionStatus>(k))));
  collectDefaultMetrics({ register: registry, prefix: 'sidestash_controller_' });
  registerEventLoopBusy(registry);
  const httpRequests = new Counter({ name: 'sidestash_controller_http_requests_total', help: 'API requests by method, route and status code', labelNames: ['method', 'route', 'code'] as const, registers: [registry] });
  const httpDuration = new Histogram({ name: 'sidestash_controller_http_request_duration_seconds', help: 'API request duration', labelNames: ['method', 'route'] as const, buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60], registers: [registry] });
  const sessionsFinished = new Counter({ name: 'sidestash_sessions_finished_total', help: 'Sessions that finished, by kind and phase', labelNames: ['kind', 'phase'] as const, registers: [registry] });
  // Present from the start (0), so that increase() sees the first finish of each kind and phase.
  for (const kind of ['BackupSession', 'RestoreSession']) for (const phase of ['Succeeded', 'Failed', 'Cancelled']) sessionsFinished.inc({ kind, phase }, 0);
  new Gauge({
    name: 'sidestash_sessions',
    help: 'Sessions currently stored, by kind and phase',
    labelNames: ['kind', 'phase'] as const,
    registers: [registry],
    async collect() {
      const [backups, restores] = await sessions();
      const lists = { BackupSession: backups!, RestoreSession: restores! };
      this.reset();
      for (const kind of ['BackupSession', 'RestoreSession'] as const) {
        const counts = new Map<string, number>();
        for (const s of lists[kind]) counts.set(s.status?.phase ?? 'Pending', (counts.get(s.status?.phase ?? 'Pending') ?? 0) + 1);
        for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled']) this.set({ kind, phase }, counts.get(phase) ?? 0);
      }
    },
  });
  new Gauge({
    name: 'sidestash_agents_online',
    help: 'Agents that reported within the lease time',
    registers: [registry],
    async collect() {
      const nowMs = now();
      this.set(store.listAgents().filter((a) => isAgentOnline(a, nowMs, agentOnlineMs)).length);
    },
  });
  registerStoreGauges(registry, store, agentOnlineMs, now, sessions);
  return { registry, httpRequests, httpDuration, sessionsFinished };
}
