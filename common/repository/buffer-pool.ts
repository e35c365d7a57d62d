// Reusable buffers: packs are built in them and uploaded from them (BufferPool), chunks are
// assembled in them (SizeClassPool), so memory stays flat however long the stream, and the
// garbage collector sees no churn. Buffers come from Buffer.allocUnsafe: the pages a use never
// reaches are never touched, so never resident.

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

/**
 * Buffers in power-of-two size classes from `minBytes` to `maxBytes`, for data whose final
 * size is unknown until it is complete (a chunk grows into the next class). Released buffers
 * are kept for reuse while all idle ones together stay within `idleLimitBytes`, so resident
 * memory follows what is in use rather than the largest sizes ever seen.
 */
export class SizeClassPool {
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly #idleLimitBytes: number;
  readonly #free = new Map<number, Buffer[]>();
  #idleBytes = 0;

  constructor(minBytes: number, maxBytes: number, idleLimitBytes: number) {
    this.minBytes = minBytes;
    this.maxBytes = maxBytes;
    this.#idleLimitBytes = idleLimitBytes;
  }

  /** The size class that holds `bytes`. */
  classOf(bytes: number): number {
    let size = this.minBytes;
    while (size < bytes && size < this.maxBytes) size *= 2;
    return size;
  }

  /** A buffer of the class that holds `bytes`. */
  take(bytes: number): Buffer {
    const size = this.classOf(bytes);
    const reused = this.#free.get(size)?.pop();
    if (reused) {
      this.#idleBytes -= size;
      return reused;
    }
    return Buffer.allocUnsafe(size);
  }

  /** Gives back a buffer from take(), or a view from its start. */
  release(view: Buffer): void {
    const size = view.buffer.byteLength;
    if (view.byteOffset !== 0 || size < this.minBytes || size > this.maxBytes || this.classOf(size) !== size) return;
    if (this.#idleBytes + size > this.#idleLimitBytes) return;
    const list = this.#free.get(size) ?? [];
    list.push(view.length === size ? view : Buffer.from(view.buffer, 0, size));
    this.#free.set(size, list);
    this.#idleBytes += size;
  }
}
