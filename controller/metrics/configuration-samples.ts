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

/**
 * Periods by schedule: the next two runs after a time are the same for every later time before
 * the first of them, so a schedule's period is computed once per run of it, not once per
 * configuration and scrape (croner's search cost ~1 ms each: a fleet's 2,000 configurations on one
 * schedule held the event loop for seconds at every scrape).
 */
const periods = new Map<string, { fromMs: number; untilMs: number; seconds: number | undefined }>();
const MAX_KEPT_PERIODS = 10_000;

/** The time between the next two runs of the schedule after `nowMs`. */
export function schedulePeriodSeconds(spec: Pick<BackupConfigurationSpec, 'schedule' | 'timezone'>, nowMs: number): number | undefined {
  const key = `${spec.timezone ?? ''}\n${spec.schedule}`;
  const kept = periods.get(key);
  if (kept && nowMs >= kept.fromMs && nowMs < kept.untilMs) return kept.seconds;
  let computed: { untilMs: number; seconds: number | undefined };
  try {
    const [a, b] = nextRunTimes(spec, nowMs, 2);
    computed = a && b ? { untilMs: a.getTime(), seconds: (b.getTime() - a.getTime()) / 1000 } : { untilMs: nowMs, seconds: undefined };
  } catch {
    computed = { untilMs: nowMs, seconds: undefined }; // stored before validation checked it: no period rather than a failed scrape
  }
  if (periods.size >= MAX_KEPT_PERIODS) periods.clear();
  periods.set(key, { fromMs: nowMs, ...computed });
  return computed.seconds;
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
