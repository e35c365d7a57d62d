// What the fleet benchmark's main thread and its agent workers (agent-worker.ts) pass each other.
import type { CallLogData } from './call-log.ts';

export interface WorkerInput {
  url: string;
  /** PEM of the controller's CA (none: plain HTTP, SIDESTASH_FLEET_TLS=front). */
  ca?: string;
  enrolmentToken: string;
  namespace: string;
  agents: { name: string; target: string }[];
  /** Registrations are spread over this long. */
  rampMs: number;
  pollWaitMs: number;
  progressMs: number;
  sessionMs: { min: number; max: number };
  repositoryLocation: string;
  repositoryPassword: string;
}

/** One session an agent was assigned (a session assigned twice appears twice). */
export interface SessionRecord {
  name: string;
  agent: string;
  claimedAtMs: number;
  progressReports: number;
  finishedAtMs?: number;
  /** The HTTP status the result was answered with (0: no answer). */
  finishStatus?: number;
}

export interface WorkerReport {
  type: 'report';
  calls: CallLogData;
  sessions: SessionRecord[];
  /** The worker's own event-loop delay: high, and its latencies are partly the simulator's. */
  loopDelayMs: { p99: number; max: number };
}
