// The gauges /metrics computes from the store at each scrape: per-configuration state (from
// BackupConfiguration spec and status), repository integrity (Repository status), the oldest
// Pending/Running session of each kind, and each registered agent's presence.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { BackupConfigurationSpec, BackupConfigurationStatus, Resource, SessionStatus } from '../resources/types.ts';
import type { AgentDirectory } from '../store/agent-directory.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { configurationSample } from './configuration-samples.ts';
import { perScrape } from './per-scrape.ts';
import type { ConfigurationSample } from './configuration-samples.ts';
import { SESSION_KINDS, WAITING_PHASES, oldestSessionAges } from './session-ages.ts';
import { isAgentOnline } from '../agents/agent-online.ts';

const CONFIG_LABELS = ['namespace', 'configuration', 'target'] as const;

/** The sessions of each kind (SESSION_KINDS' order), read once per scrape: metrics.ts's per-phase counts use the same read. */
export type ScrapeSessions = () => Promise<Resource<unknown, SessionStatus>[][]>;

export function registerStoreGauges(registry: Registry, store: ResourceStore & AgentDirectory, agentOnlineMs: number, now: () => number, sessions: ScrapeSessions = perScrape(() => Promise.all(SESSION_KINDS.map((k) => store.list<unknown, SessionStatus>(k))))): void {
  // Read once per scrape for all the per-configuration gauges: prom-client collects them
  // together (their collect() calls start in one tick), so they share the reading in flight.
  const samples = perScrape(async (): Promise<ConfigurationSample[]> => {
    const nowMs = now();
    return (await store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration')).map((c) => configurationSample(c, nowMs));
  });
  const perConfiguration = (name: string, help: string, value: (s: ConfigurationSample) => number | undefined): void => {
    new Gauge({
      name, help, labelNames: CONFIG_LABELS, registers: [registry],
      async collect() {
        const all = await samples();
        this.reset();
        for (const s of all) {
          const v = value(s);
          if (v !== undefined) this.set({ ...s.labels }, v);
        }
      },
    });
  };
  perConfiguration('sidestash_backup_last_success_timestamp_seconds', 'When the newest successful BackupSession of a BackupConfiguration finished (absent until the first success)', (s) => s.lastSuccessTimestampSeconds);
  perConfiguration('sidestash_backup_last_duration_seconds', 'Running time of the newest finished BackupSession of a BackupConfiguration (0 when it never started)', (s) => s.lastDurationSeconds);
  perConfiguration('sidestash_backup_consecutive_failures', 'Failed BackupSessions of a BackupConfiguration since its last success', (s) => s.consecutiveFailures);
  perConfiguration('sidestash_backup_configuration_created_timestamp_seconds', 'When the BackupConfiguration was created', (s) => s.createdTimestampSeconds);
  perConfiguration('sidestash_backup_schedule_period_seconds', 'Time between the next two scheduled runs of a BackupConfiguration (absent when paused)', (s) => s.schedulePeriodSeconds);
  perConfiguration('sidestash_backup_paused', 'Whether the BackupConfiguration is paused (1) or scheduled (0)', (s) => (s.paused ? 1 : 0));
  perConfiguration('sidestash_backup_suspicious_shrink', "Whether a BackupConfiguration's newest successful backup was far smaller than the previous one (stored; retention skipped)", (s) => (s.suspiciousShrink ? 1 : 0));
  // Point-in-time recovery (configurations with spec.binlog.enabled, not paused).
  perConfiguration('sidestash_binlog_archive_up', 'Whether an agent archives the binary log of a BackupConfiguration with binlog archiving on (1: it holds the lease and reports no error)', (s) => s.binlog?.up);
  perConfiguration('sidestash_binlog_archive_lag_seconds', "How far the binlog archive is behind the server: the archiving agent's report while it is up, else the time since the archive was last stored", (s) => s.binlog?.lagSeconds);
  perConfiguration('sidestash_binlog_archive_last_event_timestamp_seconds', 'When the newest archived binary-log event was written on the server', (s) => s.binlog?.lastEventTimestampSeconds);
  perConfiguration('sidestash_binlog_archive_last_flush_timestamp_seconds', 'When the binlog archive was last stored in the repository', (s) => s.binlog?.lastFlushTimestampSeconds);
  perConfiguration('sidestash_binlog_archived_bytes', 'Bytes of binary log archived by the current archive chain', (s) => s.binlog?.bytesArchived);
  perConfiguration('sidestash_binlog_archive_gaps', 'Gaps found in the binary log (events lost before they were archived) since the BackupConfiguration was created', (s) => s.binlog?.gaps);
  new Gauge({
    name: 'sidestash_backup_last_phase',
    help: 'Phase of the newest finished BackupSession of a BackupConfiguration (Succeeded, Failed or Cancelled): 1 for its phase, 0 for the others (absent before the first finish)',
    labelNames: [...CONFIG_LABELS, 'phase'] as const,
    registers: [registry],
    async collect() {
      const all = await samples();
      this.reset();
      for (const s of all) {
        if (s.lastPhase === undefined) continue;
        for (const phase of ['Succeeded', 'Failed', 'Cancelled'] as const) this.set({ ...s.labels, phase }, s.lastPhase === phase ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sidestash_repository_integrity',
    help: "Result of the Repository's newest integrity check: 1 passed, 0 failed (absent until a check ran)",
    labelNames: ['namespace', 'repository'] as const,
    registers: [registry],
    async collect() {
      const repositories = await store.list<unknown, { integrity?: { ok?: unknown } }>('Repository');
      this.reset();
      for (const r of repositories) {
        const ok = r.status?.integrity?.ok;
        if (typeof ok === 'boolean') this.set({ namespace: r.metadata.namespace, repository: r.metadata.name }, ok ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sidestash_session_oldest_age_seconds',
    help: 'Age of the oldest Pending (since creation) and of the oldest Running (since its start) session, by kind; 0 when none',
    labelNames: ['kind', 'phase'] as const,
    registers: [registry],
    async collect() {
      const ages = oldestSessionAges((await sessions()).flat(), now());
      for (const kind of SESSION_KINDS) for (const phase of WAITING_PHASES) this.set({ kind, phase }, ages[kind][phase]);
    },
  });
  new Gauge({
    name: 'sidestash_agent_online',
    help: 'Whether a registered agent reported within the lease time (1) or not (0)',
    labelNames: ['namespace', 'name', 'version'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const nowMs = now();
      for (const a of store.listAgents()) {
        const slash = a.name.indexOf('/');
        this.set({ namespace: a.name.slice(0, Math.max(0, slash)), name: a.name.slice(slash + 1), version: a.version }, isAgentOnline(a, nowMs, agentOnlineMs) ? 1 : 0);
      }
    },
  });
}
