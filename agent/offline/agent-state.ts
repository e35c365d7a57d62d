// What the agent remembers across restarts for edge autonomy, kept in the encrypted state file
// (state-file.ts): the controller's last offline plan, when it last heard from the controller,
// the newest scheduled time each configuration ran for (online or offline: a slot runs once),
// and the reports of offline backups the controller has not recorded yet.
import { MAX_PENDING_OFFLINE_REPORTS } from '../../common/offline-protocol.ts';
import type { OfflineConfiguration, OfflineSessionReport } from '../../common/offline-protocol.ts';
import type { Logger } from '../../common/log.ts';
import { AsyncMutex } from '../../common/async-mutex.ts';
import { errorMessage } from '../../common/errors.ts';
import { openState, readStateFile, sealState, writeStateFile } from './state-file.ts';

export interface AgentState {
  plan?: { configurations: OfflineConfiguration[]; fetchedAt: string };
  /** When the controller last answered. */
  lastContactMs?: number;
  /** The controller's clock minus the agent's when it last answered: scheduled times are the controller's. */
  clockOffsetMs?: number;
  /** Configuration uid -> the newest scheduled time (epoch ms) run for it, or when it first came in a plan. */
  lastSlotMs: Record<string, number>;
  /** Offline backups not yet recorded by the controller, oldest first. */
  pendingReports: OfflineSessionReport[];
}

export class AgentStateStore {
  readonly #dir: string;
  readonly #material: Buffer;
  readonly #identity: string;
  readonly #log: Logger;
  readonly #writes = new AsyncMutex();
  #state: AgentState = { lastSlotMs: {}, pendingReports: [] };

  constructor(dir: string, keyMaterial: Buffer, identity: string, log: Logger) {
    this.#dir = dir;
    this.#material = keyMaterial;
    this.#identity = identity;
    this.#log = log;
  }

  /** Reads the state file; one that cannot be opened is logged and replaced (it cannot be used, and nothing else can read it). */
  async load(): Promise<void> {
    const sealed = await readStateFile(this.#dir);
    if (sealed === undefined) return;
    try {
      this.#state = normalize(openState(sealed, this.#material, this.#identity));
    } catch (err) {
      this.#log.error('the agent state file cannot be read; starting without it (offline reports it held are lost; their snapshots stay in the repository)', { dir: this.#dir, err: errorMessage(err) });
    }
  }

  get state(): Readonly<AgentState> {
    return this.#state;
  }

  /**
   * Changes the state and writes it (writes in order, one at a time). undo: how to take the change
   * back in memory when it cannot be written (a full disk), before any other write, so that what the
   * agent acts on is what it would find after a restart.
   */
  update(change: (s: AgentState) => void, undo?: (s: AgentState) => void): Promise<void> {
    return this.#writes.run(async () => {
      change(this.#state);
      const drop = this.#state.pendingReports.length - MAX_PENDING_OFFLINE_REPORTS;
      if (drop > 0) {
        const dropped = this.#state.pendingReports.splice(0, drop);
        this.#log.error('too many offline backups wait for the controller; the oldest reports are dropped (their snapshots stay in the repository)', { dropped: dropped.map((r) => `${r.configuration}@${r.scheduledAt}`) });
      }
      try {
        await writeStateFile(this.#dir, sealState(this.#state, this.#material, this.#identity));
      } catch (err) {
        undo?.(this.#state);
        throw err;
      }
    });
  }
}

/** Our own file, opened with our key: the shape is checked so that an older version's file cannot break the agent. */
function normalize(v: unknown): AgentState {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Partial<AgentState>;
  const out: AgentState = { lastSlotMs: {}, pendingReports: [] };
  if (o.plan && Array.isArray(o.plan.configurations) && typeof o.plan.fetchedAt === 'string') out.plan = o.plan;
  if (typeof o.lastContactMs === 'number' && Number.isFinite(o.lastContactMs)) out.lastContactMs = o.lastContactMs;
  if (typeof o.clockOffsetMs === 'number' && Number.isFinite(o.clockOffsetMs)) out.clockOffsetMs = o.clockOffsetMs;
  if (o.lastSlotMs && typeof o.lastSlotMs === 'object') for (const [k, n] of Object.entries(o.lastSlotMs)) if (typeof n === 'number' && Number.isFinite(n)) out.lastSlotMs[k] = n;
  if (Array.isArray(o.pendingReports)) out.pendingReports = o.pendingReports.filter((r) => typeof r === 'object' && r !== null && typeof r.configuration === 'string');
  return out;
}
