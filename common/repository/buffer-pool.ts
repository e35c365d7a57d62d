// A fixed number of equal, reusable buffers: packs are built in them and uploaded from them,
// so memory stays flat however long the stream, and the garbage collector sees no churn.

export class BufferPool {
  readonly sizeBytes: number;
  readonly #max: number;
  readonly #free: Buffer[] = [];
  readonly #waiting: ((b: Buffer) => void)[] = [];
  #created = 0;

  constructor(sizeBytes: number, max: number) {
    this.sizeBytes = sizeBytes;
    this.#max = max;
  }

  /** A free buffer; waits while all `max` are in use. */
  async acquire(): Promise<Buffer> {
    const free = this.#free.pop();
    if (free) return free;
    if (this.#created < this.#max) {
      this.#created++;
      return Buffer.allocUnsafe(this.sizeBytes);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a buffer back; buffers not from this pool are ignored (left to the GC). */
  release(buffer: Buffer): void {
    if (buffer.length !== this.sizeBytes) return;
    const next = this.#waiting.shift();
    if (next) next(buffer);
    else this.#free.push(buffer);
  }
}
