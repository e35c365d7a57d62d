// Index files written during a backup, as restic does, so that a backup that is interrupted
// (an outage longer than the retry window, an agent restart, a cancel) leaves its uploaded
// packs indexed: the next backup's dedup finds their blobs and does not upload them again.
// Only packs whose upload finished go in; each pack goes into exactly one index file. The
// packs stay unreferenced by any snapshot until a backup that uses them is stored, so a prune
// in between removes them like any other unused data (it needs the exclusive lock, which a
// running backup holds off).
import type { Id } from './ids.ts';
import type { PackEntry } from './master-index.ts';

/** Stores index files describing `packs` (blob-saver.ts saveIndexFiles); returns their ids. */
export type SaveIndex = (packs: readonly PackEntry[], signal: AbortSignal | undefined) => Promise<Id[]>;

export interface IndexCheckpointPolicy {
  /** Write an index once this many finished packs are not in one yet. */
  everyPacks: number;
  /** ... or once this long has passed since the last index was written (with at least one pack to index). */
  everyMs: number;
}

/** restic writes an index file as the backup goes; 10 packs (80 MiB at our pack size) or 30 s, whichever first. */
export const DEFAULT_INDEX_CHECKPOINTS: IndexCheckpointPolicy = { everyPacks: 10, everyMs: 30_000 };

/** Whether an index file is due now. Pure, for tables. */
export function checkpointDue(policy: IndexCheckpointPolicy, unindexedPacks: number, msSinceLastIndex: number): boolean {
  return unindexedPacks > 0 && (unindexedPacks >= policy.everyPacks || msSinceLastIndex >= policy.everyMs);
}

export class IndexCheckpoints {
  readonly #save: SaveIndex;
  readonly #policy: IndexCheckpointPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #nowMs: () => number;
  #unindexed: PackEntry[] = [];
  #writing: Promise<void> = Promise.resolve();
  #lastMs: number;
  /** Index files written so far, and the packs they hold. */
  readonly written: Id[] = [];
  indexedPacks = 0;

  constructor(save: SaveIndex, policy: IndexCheckpointPolicy, signal?: AbortSignal, nowMs: () => number = () => performance.now()) {
    this.#save = save;
    this.#policy = policy;
    this.#signal = signal;
    this.#nowMs = nowMs;
    this.#lastMs = nowMs();
  }

  /** A pack whose upload finished. */
  packStored(entry: PackEntry): void {
    this.#unindexed.push(entry);
    if (checkpointDue(this.#policy, this.#unindexed.length, this.#nowMs() - this.#lastMs)) this.#write(this.#signal);
  }

  /**
   * Writes the packs not yet in an index, one write at a time. A failed write is not the
   * backup's failure: its packs go back to be indexed by the next write or the final index.
   */
  #write(signal: AbortSignal | undefined): Promise<void> {
    const packs = this.#unindexed.splice(0);
    this.#lastMs = this.#nowMs();
    this.#writing = this.#writing.then(async () => {
      if (packs.length === 0) return;
      try {
        this.written.push(...(await this.#save(packs, signal)));
        this.indexedPacks += packs.length;
      } catch {
        this.#unindexed.unshift(...packs);
      }
    });
    return this.#writing;
  }

  /** Waits for the writes under way, then hands over the packs still not in an index (the caller indexes them). */
  async takeUnindexed(): Promise<PackEntry[]> {
    await this.#writing;
    return this.#unindexed.splice(0);
  }

  /** After a failed backup: indexes the finished packs not in an index yet (best effort, under its own signal). */
  async indexRemaining(signal: AbortSignal): Promise<void> {
    await this.#writing;
    await this.#write(signal);
  }
}
