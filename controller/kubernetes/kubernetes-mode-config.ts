// The store switch (SIDESTASH_STORE=sqlite|kubernetes) and, in Kubernetes mode, what the
// controller needs to use the API server as its store: the connection (kube-config.ts), the
// namespaces it serves, the Lease it elects its leader on and this replica's identity. Read
// with the controller's EnvReader so that every problem is reported together, by variable.
import type { EnvReader } from '../../common/config-env.ts';
import { errorMessage } from '../../common/errors.ts';
import { loadKubeConnection } from './kube-config.ts';
import type { KubeConnection } from './kube-config.ts';
import { defaultIdentity } from './leader-elector.ts';

export type StoreMode = 'sqlite' | 'kubernetes';
export const STORE_MODES: readonly StoreMode[] = ['sqlite', 'kubernetes'];
export const LEASE_NAME = 'sidestash-controller';
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LEASE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface KubernetesModeConfig {
  connection: KubeConnection;
  /** Namespaces whose resources and Secrets the controller serves; empty: all. */
  watchNamespaces: string[];
  leaderElection: { namespace: string; name: string; identity: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

/** Variables of the sqlite mode's agent enrolment that have no meaning in Kubernetes mode. */
const SQLITE_ONLY = ['SIDESTASH_AGENT_BOOTSTRAP_TOKEN', 'SIDESTASH_AGENT_TOKENS_FILE'];

export function parseStoreMode(r: EnvReader): StoreMode {
  const mode = r.string('SIDESTASH_STORE', 'sqlite')!;
  if ((STORE_MODES as readonly string[]).includes(mode)) return mode as StoreMode;
  r.problems.push(`SIDESTASH_STORE: ${JSON.stringify(mode)} is not one of ${STORE_MODES.join(', ')}`);
  return 'sqlite';
}

/** Kubernetes mode's settings; problems go to r.problems. `load` is for tests. */
export function parseKubernetesMode(r: EnvReader, env: Record<string, string | undefined>, load: typeof loadKubeConnection = loadKubeConnection): KubernetesModeConfig | undefined {
  let connection: KubeConnection | undefined;
  try {
    connection = load(env);
  } catch (err) {
    r.problems.push(`SIDESTASH_STORE=kubernetes: no Kubernetes API server: ${errorMessage(err)}`);
  }
  const watchNamespaces = r.list('SIDESTASH_WATCH_NAMESPACES');
  for (const ns of watchNamespaces) if (!NAMESPACE.test(ns)) r.problems.push(`SIDESTASH_WATCH_NAMESPACES: ${JSON.stringify(ns)} is not a namespace name`);
  const leaseNamespace = r.string('SIDESTASH_LEADER_ELECTION_NAMESPACE') ?? r.string('POD_NAMESPACE') ?? connection?.namespace ?? 'default';
  if (!NAMESPACE.test(leaseNamespace)) r.problems.push(`SIDESTASH_LEADER_ELECTION_NAMESPACE: ${JSON.stringify(leaseNamespace)} is not a namespace name`);
  const leaseName = r.string('SIDESTASH_LEADER_ELECTION_NAME', LEASE_NAME)!;
  if (!LEASE.test(leaseName)) r.problems.push(`SIDESTASH_LEADER_ELECTION_NAME: ${JSON.stringify(leaseName)} is not a Lease name`);
  const podName = r.string('POD_NAME');
  if (podName !== undefined && !LEASE.test(podName)) r.problems.push(`POD_NAME: ${JSON.stringify(podName)} is not a pod name`);
  const leaseDurationMs = r.durationMs('SIDESTASH_LEADER_ELECTION_LEASE', '15s');
  const renewDeadlineMs = r.durationMs('SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE', '10s');
  const retryPeriodMs = r.durationMs('SIDESTASH_LEADER_ELECTION_RETRY_PERIOD', '2s');
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    r.problems.push(`SIDESTASH_LEADER_ELECTION_LEASE, SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE, SIDESTASH_LEADER_ELECTION_RETRY_PERIOD: need lease > renew deadline > retry period (got ${leaseDurationMs}, ${renewDeadlineMs}, ${retryPeriodMs} ms)`);
  }
  for (const name of SQLITE_ONLY) {
    if (r.env(name) !== undefined || r.env(`${name}_FILE`) !== undefined) r.problems.push(`${name}: only for SIDESTASH_STORE=sqlite; in Kubernetes mode agents authenticate with their projected ServiceAccount token (audience sidestash)`);
  }
  if (!connection) return undefined;
  return {
    connection,
    watchNamespaces: [...new Set(watchNamespaces)],
    leaderElection: { namespace: leaseNamespace, name: leaseName, identity: defaultIdentity(podName === undefined ? {} : { POD_NAME: podName }), leaseDurationMs, renewDeadlineMs, retryPeriodMs },
  };
}
