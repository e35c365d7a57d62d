// Per-BackupConfiguration gauge values, from its spec and status alone (pure): they come from
// what #finish records on the configuration (sessions/configuration-outcome.ts), never from
// session history, so pruning old sessions changes none of them.
import { nextRunTimes } from '../schedule.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, Resource } from '../resources/types.ts';

export interface ConfigurationLabels {
  namespace: string;
  configuration: string;
  /** The target AppBinding's name (in the configuration's namespace). */
  target: string;
}

export interface ConfigurationSample {
  labels: ConfigurationLabels;
  /** Absent until the first success. */
  lastSuccessTimestampSeconds?: number;
  /** Absent before the first finished session. */
  lastPhase?: 'Succeeded' | 'Failed' | 'Cancelled';
  lastDurationSeconds?: number;
  consecutiveFailures: number;
  createdTimestampSeconds?: number;
  /** Between the next two scheduled runs; absent when paused or when the schedule cannot be read. */
  schedulePeriodSeconds?: number;
  paused: boolean;
  suspiciousShrink: boolean;
}

const seconds = (iso: string | undefined): number | undefined => {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
};

/** The time between the next two runs of the schedule after `nowMs`. */
export function schedulePeriodSeconds(spec: Pick<BackupConfigurationSpec, 'schedule' | 'timezone'>, nowMs: number): number | undefined {
  try {
    const [a, b] = nextRunTimes(spec, nowMs, 2);
    return a && b ? (b.getTime() - a.getTime()) / 1000 : undefined;
  } catch {
    return undefined; // stored before validation checked it: no period rather than a failed scrape
  }
}

export function configurationSample(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, nowMs: number): ConfigurationSample {
  const st = cfg.status ?? {};
  const paused = cfg.spec.paused === true;
  const out: ConfigurationSample = {
    labels: { namespace: cfg.metadata.namespace, configuration: cfg.metadata.name, target: cfg.spec.target?.ref?.name ?? '' },
    consecutiveFailures: st.consecutiveFailures ?? 0,
    paused,
    suspiciousShrink: st.suspiciousShrink !== undefined,
  };
  const lastSuccess = seconds(st.lastSuccessTime);
  if (lastSuccess !== undefined) out.lastSuccessTimestampSeconds = lastSuccess;
  if (st.lastFinishedPhase === 'Succeeded' || st.lastFinishedPhase === 'Failed' || st.lastFinishedPhase === 'Cancelled') {
    out.lastPhase = st.lastFinishedPhase;
    out.lastDurationSeconds = st.lastDurationSeconds ?? 0;
  }
  const created = seconds(cfg.metadata.creationTimestamp);
  if (created !== undefined) out.createdTimestampSeconds = created;
  if (!paused) {
    const period = schedulePeriodSeconds(cfg.spec, nowMs);
    if (period !== undefined) out.schedulePeriodSeconds = period;
  }
  return out;
}
