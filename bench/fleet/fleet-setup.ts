// The fleet's resources, applied through the admin API as `sidestash apply -f` does (JSON
// lists, in batches): two Secrets, and per target an AppBinding, a Repository and a
// BackupConfiguration. The Repositories share one restic repository (the bench's, opened by the
// agents to write their snapshot records); the configurations are created paused and later
// given one cron minute for all (scheduleAll), so that the storm falls after the set-up.
import { api } from '../../cli/api-client.ts';
import type { ApiClientOptions } from '../../cli/api-client.ts';
import { isSidestashError } from '../../common/errors.ts';

export const FLEET_NAMESPACE = 'default';
const BATCH = 250;

export interface FleetTarget {
  index: number;
  appBinding: string;
  repository: string;
  configuration: string;
  agent: string;
}

export function fleetTargets(count: number): FleetTarget[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(5, '0');
    return { index: i, appBinding: `site-${n}-db`, repository: `site-${n}-repo`, configuration: `site-${n}-backup`, agent: `agent-${n}` };
  });
}

const meta = (name: string): { name: string; namespace: string } => ({ name, namespace: FLEET_NAMESPACE });

function configuration(t: FleetTarget, schedule: string, paused: boolean): object {
  return {
    apiVersion: 'sidestash.io/v1',
    kind: 'BackupConfiguration',
    metadata: meta(t.configuration),
    spec: {
      schedule,
      paused,
      repository: { name: t.repository },
      target: { ref: { kind: 'AppBinding', name: t.appBinding } },
      retentionPolicy: { name: 'keep-last-5', keepLast: 5, prune: false },
      backupHistoryLimit: 3,
      timeout: '30m',
    },
  };
}

/** Applies in batches; a batch that meets a busy controller (a retryable error) is sent again, as an operator would. */
async function applyInBatches(o: ApiClientOptions, docs: object[]): Promise<void> {
  for (let i = 0; i < docs.length; i += BATCH) {
    for (let attempt = 1; ; attempt++) {
      try {
        await api(o, 'POST', '/api/v1/apply', docs.slice(i, i + BATCH));
        break;
      } catch (err) {
        if (!isSidestashError(err) || !err.retryable || attempt >= 5) throw err;
        console.log(`apply: ${err.message}; again`);
      }
    }
  }
}

/** Everything but the schedules; returns how long applying the (paused) configurations took. */
export async function applyFleet(o: ApiClientOptions, targets: readonly FleetTarget[], repositoryPath: string, repositoryPassword: string): Promise<{ configurationsMs: number }> {
  await applyInBatches(o, [
    { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: meta('fleet-repo-secret'), spec: { stringData: { RESTIC_PASSWORD: repositoryPassword } } },
    { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: meta('fleet-db-auth'), spec: { stringData: { username: 'sidestash', password: 'fleet-bench-db-password' } } },
  ]);
  await applyInBatches(o, targets.flatMap((t) => [
    { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: meta(t.appBinding), spec: { type: 'mariadb', clientConfig: { host: '127.0.0.1', port: 3306 }, secret: { name: 'fleet-db-auth' } } },
    { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: meta(t.repository), spec: { backend: { local: { path: repositoryPath }, storageSecretName: 'fleet-repo-secret' } } },
  ]));
  const started = performance.now();
  await applyInBatches(o, targets.map((t) => configuration(t, '0 0 1 1 *', true)));
  return { configurationsMs: performance.now() - started };
}

/** Every configuration on the same schedule, unpaused. */
export async function scheduleAll(o: ApiClientOptions, targets: readonly FleetTarget[], schedule: string): Promise<void> {
  await applyInBatches(o, targets.map((t) => configuration(t, schedule, false)));
}
