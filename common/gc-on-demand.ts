// Garbage collections on demand, for streams that pass through much more memory than they
// hold. Node frees a Buffer's memory only when V8 collects its (tiny) JS object, and V8
// schedules collections by JS heap use, not by the megabytes of Buffers behind it: a backup of
// a few hundred MiB left ~50 MiB of dead pipe reads and chunks in the agent's RSS. A young-
// generation collection every few MiB frees Buffers that die young, at ~0.1 ms each; a full
// one now and then frees those that lived long enough to be promoted (chunks waiting for
// compression, blobs waiting for a slow consumer). Node and Deno both let us reach V8's gc()
// this way; where a runtime does not, this is a no-op.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type CollectionType = 'minor' | 'major';
type Collect = (type: CollectionType) => void;

let collect: Collect | undefined | null = null;

function resolve(): Collect | undefined {
  try {
    // The documented way to reach gc() without --expose-gc on the command line; the flag is
    // turned off again at once, so no other code sees a global gc.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    if (typeof gc !== 'function') return undefined;
    return (type) => (gc as (options: object) => void)({ type, execution: 'sync' });
  } catch {
    return undefined;
  }
}

/** Whether this runtime lets us run collections (where it does not, collectGarbage is a no-op). */
export function canCollectGarbage(): boolean {
  if (collect === null) collect = resolve();
  return collect !== undefined;
}

/** Runs a collection now, where the runtime allows it. */
export function collectGarbage(type: CollectionType): void {
  if (collect === null) collect = resolve();
  collect?.(type);
}

/** Collects each time enough bytes have gone by: young every `minorEveryBytes`, full every `majorEveryBytes`. */
export class StreamGarbageCollector {
  readonly #minorEveryBytes: number;
  readonly #majorEveryBytes: number;
  readonly #collect: (type: CollectionType) => void;
  #sinceMinor = 0;
  #sinceMajor = 0;

  /** `collect` runs the collections (default: collectGarbage; tests pass a recorder). */
  constructor(options: { minorEveryBytes: number; majorEveryBytes: number; collect?: (type: CollectionType) => void }) {
    this.#minorEveryBytes = options.minorEveryBytes;
    this.#majorEveryBytes = options.majorEveryBytes;
    this.#collect = options.collect ?? collectGarbage;
  }

  passed(bytes: number): void {
    this.#sinceMinor += bytes;
    this.#sinceMajor += bytes;
    if (this.#sinceMajor >= this.#majorEveryBytes) {
      this.#sinceMajor = 0;
      this.#sinceMinor = 0;
      this.#collect('major');
    } else if (this.#sinceMinor >= this.#minorEveryBytes) {
      this.#sinceMinor = 0;
      this.#collect('minor');
    }
  }
}
