// When the agent runs a configuration's schedule itself (edge autonomy), as a pure decision:
// only while the controller has been unreachable for longer than the threshold (its last call
// failed, and none got an answer for that long, counted from the agent's start at the earliest:
// its own downtime is not the controller's; a long poll that waits is no failure), and then the
// newest scheduled time not yet run, once its jitter has passed. Older scheduled times missed
// meanwhile are not run one after another (the controller skips overlapping runs too).
import { latestRunAt, nextRunTimes } from '../../common/schedule.ts';
import type { ScheduleSpec } from '../../common/schedule.ts';

export interface OfflineClock {
  nowMs: number;
  /** When the controller last answered; absent: never since the state began. */
  lastContactMs?: number;
  /** When a call last failed to reach it; absent: none failed in this process. */
  lastFailureMs?: number;
  /** When this agent process started. */
  startedMs: number;
  offlineAfterMs: number;
}

/** Whether the agent runs schedules itself now. */
export function isOffline(c: OfflineClock): boolean {
  if (c.lastFailureMs === undefined || (c.lastContactMs !== undefined && c.lastContactMs >= c.lastFailureMs)) return false;
  const since = Math.max(c.lastContactMs ?? 0, c.startedMs);
  return c.nowMs - since > c.offlineAfterMs;
}

export interface SlotInput {
  schedule: ScheduleSpec;
  jitterMs: number;
  /** The newest scheduled time run for this configuration (or when it first came in a plan). */
  lastSlotMs: number;
  nowMs: number;
}

export type SlotDecision = { run: number } | { waitUntilMs: number };

/** The scheduled time to run now, or when to look again. */
export function offlineSlot(i: SlotInput): SlotDecision {
  const latest = latestRunAt(i.schedule, i.nowMs - i.jitterMs);
  if (latest !== undefined && latest > i.lastSlotMs) return { run: latest };
  const next = nextRunTimes(i.schedule, Math.max(i.nowMs - i.jitterMs, i.lastSlotMs), 1)[0];
  return { waitUntilMs: next === undefined ? i.nowMs + 3_600_000 : next.getTime() + i.jitterMs };
}
