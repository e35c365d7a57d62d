// Per-BackupConfiguration gauge values, from its spec and status alone (pure): they come from
// what #finish records on the configuration (sessions/configuration-outcome.ts), never from
// session history, so pruning old sessions changes none of them.
import { nextRunTimes } from '../../common/schedule.ts';
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
  /** Present when the configuration archives its binlog (spec.binlog.enabled). */
  binlog?: BinlogArchiveSample;
}

export interface BinlogArchiveSample {
  /** 1: an agent holds the archive's lease and reports no error. */
  up: 0 | 1;
  /**
   * The holder's reported lag while it is up; otherwise the time since the last flush (or since
   * the configuration was created): an archive nobody runs shows a growing lag, never an old 0.
   */
  lagSeconds: number;
  lastEventTimestampSeconds?: number;
  lastFlushTimestampSeconds?: number;
  bytesArchived: number;
  gaps: number;
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
  if (cfg.spec.binlog?.enabled === true && !paused) out.binlog = binlogArchiveSample(st.binlog ?? {}, created, nowMs);
  return out;
}

export function binlogArchiveSample(b: NonNullable<BackupConfigurationStatus['binlog']>, createdSeconds: number | undefined, nowMs: number): BinlogArchiveSample {
  const leaseEnds = Date.parse(b.leaseExpiresAt ?? '');
  const up = b.agent !== undefined && Number.isFinite(leaseEnds) && leaseEnds > nowMs && b.error === undefined;
  const flushed = seconds(b.flushedAt);
  const since = flushed ?? createdSeconds;
  const lagSeconds = up ? (b.lagSeconds ?? 0) : since === undefined ? 0 : Math.max(0, nowMs / 1000 - since);
  const out: BinlogArchiveSample = { up: up ? 1 : 0, lagSeconds, bytesArchived: b.bytesArchived ?? 0, gaps: b.gaps ?? 0 };
  const last = seconds(b.lastEventTime);
  if (last !== undefined) out.lastEventTimestampSeconds = last;
  if (flushed !== undefined) out.lastFlushTimestampSeconds = flushed;
  return out;
}
