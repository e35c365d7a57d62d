// The bounded buffers between the reading connections and the one ordered dump stream. Each
// chunk's statements wait in its ChunkOutput until the writer reaches that chunk; each worker
// (connection) may have at most budgetBytes of statements waiting, across its chunks, and its
// socket is paused past that until the writer has taken them. Chunks are handed to workers in
// dump order, one at a time, so the chunk the writer waits for is always being read by a worker
// whose waiting bytes are that chunk's own: the writer can always go on, and memory stays
// within workers x (budgetBytes + one piece of insert-builder.ts, or one row when a row is
// larger) whatever the tables' and statements' sizes. (The budget counts the bytes handed on: a
// piece is handed on full, or at least half full, or as a copy of its size, so the memory
// behind them is at most twice that.)

export class WorkerBudget {
  readonly budgetBytes: number;
  #pendingBytes = 0;
  #onBelow: (() => void) | undefined;

  constructor(budgetBytes: number) {
    this.budgetBytes = budgetBytes;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whether the worker may read on. */
  get open(): boolean {
    return this.#pendingBytes < this.budgetBytes;
  }

  added(bytes: number): void {
    this.#pendingBytes += bytes;
  }

  taken(bytes: number): void {
    this.#pendingBytes -= bytes;
    if (this.#onBelow && this.open) {
      const f = this.#onBelow;
      this.#onBelow = undefined;
      f();
    }
  }

  /** Calls f once the worker is below its budget again (the connection's resume). */
  whenOpen(f: () => void): void {
    if (this.open) f();
    else this.#onBelow = f;
  }
}

export class ChunkOutput {
  readonly #parts: Buffer[] = [];
  #budget: WorkerBudget | undefined;
  #done = false;
  #wake: (() => void) | undefined;

  /** The worker reading this chunk (its budget counts what waits here). */
  assign(budget: WorkerBudget): void {
    this.#budget = budget;
  }

  push(statement: Buffer): void {
    this.#parts.push(statement);
    this.#budget!.added(statement.length);
    this.#notify();
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  /** Wakes a writer waiting here (a failure elsewhere: the writer then checks the dump's state). */
  interrupt(): void {
    this.#notify();
  }

  /** The next statement, or undefined at the chunk's end; waits while the chunk is being read. */
  async next(failed: () => Error | undefined): Promise<Buffer | undefined> {
    for (;;) {
      const err = failed();
      if (err) throw err;
      const part = this.#parts.shift();
      if (part) {
        this.#budget!.taken(part.length);
        return part;
      }
      if (this.#done) return undefined;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}
