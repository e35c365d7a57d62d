// A session's result must reach the controller: it is what the controller records, checks and
// pushes. When the controller cannot take it (down, unreachable, not leading), the agent keeps
// it and sends it again before it asks for new work, however long that takes, instead of giving
// up after a few minutes (a restarted controller gives a Running session's agent a whole lease
// to report: controller/sessions/session-sweeps.ts). Kept in memory only: an agent that restarts
// registers again, and the controller fails what it ran (AGENT_LOST).
import { ErrorCodes, errorMessage, isSidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { SessionAssignment, SessionResult } from '../common/protocol.ts';

/** Most results kept; beyond, the oldest are dropped with an error (their snapshots stay in the repository). */
export const MAX_KEPT_RESULTS = 100;

export interface KeptResult {
  assignment: SessionAssignment;
  result: SessionResult;
}

export type SendResult = (a: SessionAssignment, r: SessionResult) => Promise<void>;

/** Whether a failed send is worth repeating later: the controller could not take it now. */
export function isDeferrable(err: unknown): boolean {
  return isSidestashError(err) && (err.retryable || err.code === ErrorCodes.CONTROLLER_UNAVAILABLE || err.code === ErrorCodes.NOT_LEADER || err.code === ErrorCodes.UNAUTHORIZED);
}

export class ResultDelivery {
  readonly #log: Logger;
  readonly #kept: KeptResult[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  get pending(): number {
    return this.#kept.length;
  }

  /** Keeps a result the controller could not take. */
  keep(k: KeptResult, err: unknown): void {
    this.#kept.push(k);
    this.#log.warn('the controller cannot take the session result now; it is kept and sent before the agent asks for more work', { session: `${k.assignment.namespace}/${k.assignment.name}`, phase: k.result.phase, snapshotId: k.result.snapshotId, err: errorMessage(err) });
    while (this.#kept.length > MAX_KEPT_RESULTS) {
      const dropped = this.#kept.shift()!;
      this.#log.error('too many session results wait for the controller; the oldest is dropped (its snapshot stays in the repository)', { session: `${dropped.assignment.namespace}/${dropped.assignment.name}`, snapshotId: dropped.result.snapshotId });
    }
  }

  /** Sends the kept results, oldest first; throws (keeping the rest) when the controller still cannot take one. */
  async flush(send: SendResult): Promise<void> {
    while (this.#kept.length > 0) {
      const k = this.#kept[0]!;
      try {
        await send(k.assignment, k.result);
        this.#log.info('kept session result delivered', { session: `${k.assignment.namespace}/${k.assignment.name}`, phase: k.result.phase });
      } catch (err) {
        if (isDeferrable(err)) throw err;
        this.#log.error('the controller refused a kept session result; dropped', { session: `${k.assignment.namespace}/${k.assignment.name}`, phase: k.result.phase, snapshotId: k.result.snapshotId, code: isSidestashError(err) ? err.code : undefined, err: errorMessage(err) });
      }
      this.#kept.shift();
    }
  }

  /** On the agent's stop: what could not be delivered, said once. */
  abandon(): void {
    for (const k of this.#kept.splice(0)) this.#log.error('the agent stops with a session result the controller never took (its snapshot stays in the repository)', { session: `${k.assignment.namespace}/${k.assignment.name}`, phase: k.result.phase, snapshotId: k.result.snapshotId });
  }
}
