// What an agent may run on its own while it cannot reach the controller (edge autonomy, issue
// 15): every BackupConfiguration that is not paused and whose target the agent serves, with
// what its backups are given (the same as a session's, assignment.ts), its schedule, the jitter
// the controller's scheduler gives it, and its timeout. The answer holds database and
// repository credentials, as every assignment does, and goes only to the authenticated agent
// serving those targets. A configuration whose resources are broken is left out (the
// controller's own runs of it fail with the reason).
import type { Logger } from '../../common/log.ts';
import { errorMessage } from '../../common/errors.ts';
import type { OfflineConfiguration, OfflinePlan } from '../../common/offline-protocol.ts';
import { nextRunTimes } from '../../common/schedule.ts';
import type { BackupConfigurationSpec, Resource } from '../resources/types.ts';
import { sessionDeadlineMs } from '../resources/timeout-rules.ts';
import { scheduleJitterMs } from '../schedule-jitter.ts';
import { configurationAssignment, configurationTimeout } from '../sessions/assignment.ts';
import type { AgentRecord } from '../store/store.ts';
import type { ResourceStore } from '../store/resource-store.ts';

export async function offlinePlan(store: ResourceStore, agent: Pick<AgentRecord, 'name' | 'targets'>, maxJitterMs: number, log: Logger): Promise<OfflinePlan> {
  const namespaces = new Set(agent.targets.map((t) => t.split('/')[0]!));
  const configurations: OfflineConfiguration[] = [];
  for (const ns of namespaces) {
    for (const cfg of await store.list<BackupConfigurationSpec, unknown>('BackupConfiguration', { namespace: ns })) {
      if (cfg.spec.paused || !cfg.metadata.uid || !agent.targets.includes(`${ns}/${cfg.spec.target.ref.name}`)) continue;
      try {
        configurations.push(await offlineConfiguration(store, cfg as Resource<BackupConfigurationSpec>, maxJitterMs));
      } catch (err) {
        log.warn('configuration left out of an agent\'s offline plan', { agent: agent.name, configuration: `${ns}/${cfg.metadata.name}`, err: errorMessage(err) });
      }
    }
  }
  return { configurations };
}

async function offlineConfiguration(store: ResourceStore, cfg: Resource<BackupConfigurationSpec>, maxJitterMs: number): Promise<OfflineConfiguration> {
  const { namespace, name, uid } = cfg.metadata;
  const schedule = { schedule: cfg.spec.schedule, ...(cfg.spec.timezone ? { timezone: cfg.spec.timezone } : {}) };
  // One jitter for all its runs offline: the scheduler's bound for the shortest gap ahead (it bounds each run by its own gap).
  const runs = nextRunTimes(schedule, Date.now(), 9).map((d) => d.getTime());
  const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
  const timeoutMs = sessionDeadlineMs(configurationTimeout(cfg), 0, `BackupConfiguration ${namespace}/${name}`);
  return {
    name,
    uid: uid!,
    ...schedule,
    // The scheduler's own rule (scheduler.ts): the same configuration starts as late offline as online.
    jitterMs: scheduleJitterMs(`${namespace}/${name}/${uid ?? ''}`, maxJitterMs, gaps.length > 0 ? Math.min(...gaps) : undefined),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    assignment: await configurationAssignment(store, cfg),
  };
}
