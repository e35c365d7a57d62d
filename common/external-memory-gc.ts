// Full garbage collections when the memory behind Buffers has actually grown, for a stream
// whose Buffers V8 does not count toward its own collection schedule (gc-on-demand.ts says why
// they pile up). A restore read collected on a fixed schedule (a full collection every 8 MiB of
// blobs, a young one every 2 MiB) whether or not V8 had freed the Buffers on its own meanwhile:
// a third of the agent's main-thread time went to collections. Here the stream asks V8 how much
// memory lives outside its heap (v8.getHeapStatistics().external_memory, ~2 µs, Node and Deno)
// and collects only when that has grown by `growthBytes` over the lowest it has been since the
// last collection: the garbage of one growth at most, whatever the rate of the stream.
//
// The lowest since the last collection, not the value just after it: V8 frees a collected
// ArrayBuffer's memory on a background thread a little later, so the level right after a
// collection still holds what it freed. And since the floor is measured again after each
// collection, memory that a stream legitimately holds longer (a larger statement, more blobs
// ahead) raises it instead of causing a collection at every look.
import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from './gc-on-demand.ts';
import type { CollectionType } from './gc-on-demand.ts';

export interface ExternalMemoryGcOptions {
  /** Collect when memory outside the heap is this much above its floor. */
  growthBytes: number;
  /** Memory outside V8's heap now (default: v8.getHeapStatistics().external_memory). */
  measure?: () => number;
  /** Runs the collections (default collectGarbage; tests pass a recorder). */
  collect?: (type: CollectionType) => void;
}

/** The decision, pure: whether to collect at `externalBytes`, and the floor to keep. */
export function externalMemoryDecision(floorBytes: number, externalBytes: number, growthBytes: number): { collect: boolean; floorBytes: number } {
  const floor = Math.min(floorBytes, externalBytes);
  if (externalBytes - floor >= growthBytes) return { collect: true, floorBytes: Number.POSITIVE_INFINITY };
  return { collect: false, floorBytes: floor };
}

function externalMemory(): number {
  const bytes = (getHeapStatistics() as { external_memory?: unknown }).external_memory;
  return typeof bytes === 'number' ? bytes : 0;
}

/** Call check() as the stream goes (once a blob, say): a full collection when external memory has grown. */
export class ExternalMemoryCollector {
  readonly #growthBytes: number;
  readonly #measure: () => number;
  readonly #collect: (type: CollectionType) => void;
  #floor = Number.POSITIVE_INFINITY;
  /** Collections run (for the log and tests). */
  collections = 0;

  constructor(options: ExternalMemoryGcOptions) {
    this.#growthBytes = options.growthBytes;
    this.#measure = options.measure ?? externalMemory;
    this.#collect = options.collect ?? collectGarbage;
  }

  check(): void {
    const d = externalMemoryDecision(this.#floor, this.#measure(), this.#growthBytes);
    this.#floor = d.floorBytes;
    if (d.collect) {
      this.collections++;
      this.#collect('major');
    }
  }
}
