// Edge autonomy (issue 15): what the controller gives an agent so that it can run its targets'
// scheduled backups while the controller cannot be reached, and what the agent reports of each
// backup it ran that way once the controller is back. The paths are in agent-paths.ts.
import type { BackupAssignment, SessionResult } from './protocol.ts';

/** A backup assignment without what only a session has (its name, uid, deadline). */
export type OfflineAssignment = Omit<BackupAssignment, 'name' | 'sessionUid' | 'deadlineMs' | 'integrityCheck'>;

/** One BackupConfiguration the agent may run on its own (not paused, of one of its targets). */
export interface OfflineConfiguration {
  /** The BackupConfiguration's name (in the agent's namespace) and uid. */
  name: string;
  uid: string;
  schedule: string;
  timezone?: string;
  /** How long after a scheduled time its run starts (the controller's jitter for it). */
  jitterMs: number;
  /** The configuration's session timeout; absent: none. */
  timeoutMs?: number;
  assignment: OfflineAssignment;
}

export interface OfflinePlan {
  configurations: OfflineConfiguration[];
}

/** A scheduled backup the agent ran while the controller could not be reached. */
export interface OfflineSessionReport {
  /** The BackupConfiguration's name and uid as the plan gave them. */
  configuration: string;
  configurationUid: string;
  /** RFC 3339: the scheduled time (a firing time of the configuration's schedule). */
  scheduledAt: string;
  /** RFC 3339: when the agent started it. */
  startedAt: string;
  result: SessionResult;
}

/** The controller's answer: the session that records the run. */
export interface OfflineSessionRecorded {
  session: string;
  phase: string;
}

/** Most reports one agent keeps waiting for the controller (the oldest are dropped beyond, with an error in its log). */
export const MAX_PENDING_OFFLINE_REPORTS = 1000;
