// Statement buffers used again. A restore copies every byte of the dump once, from the snapshot's
// blobs into the buffer each statement is sent from (statement-splitter.ts, framed); a fresh
// buffer each time is memory outside V8's heap that only a garbage collection frees, and the
// collections those megabytes caused were a third of the agent's CPU time in a restore. The
// loader gives a statement's buffer back once every connection has run it (the server has then
// read all of it, so the socket holds no part of it either), and the next statement of that size
// takes it.
//
// Sizes from minBytes up go by powers of two (mariadb-dump's extended INSERTs, up to its
// net_buffer_length of ~1 MiB, share one class); smaller ones are ordinary allocations (Node
// carves them from its own slab). At most maxFreeBytes wait in the pool; past that a returned
// buffer is left to the collector. Only a buffer the pool handed out is taken back, once: a
// buffer from elsewhere (a statement split without the pool) is ignored, so a wrong release can
// never hand one buffer to two statements.

export interface FramePoolOptions {
  /** The smallest buffer pooled (smaller ones are plain allocations). */
  minBytes?: number;
  /** Bytes of free buffers the pool keeps. */
  maxFreeBytes?: number;
}

export const FRAME_POOL_MIN_BYTES = 64 * 1024;
export const FRAME_POOL_MAX_FREE_BYTES = 4 * 1024 * 1024;

export class FramePool {
  readonly #minBytes: number;
  readonly #maxFreeBytes: number;
  /** Free buffers by size class (their byteLength). */
  readonly #free = new Map<number, ArrayBuffer[]>();
  /** Buffers handed out and not yet given back. */
  readonly #out = new WeakSet<ArrayBuffer>();
  #freeBytes = 0;
  /** Buffers taken from the pool instead of allocated (for tests and logs). */
  reused = 0;

  constructor(options: FramePoolOptions = {}) {
    this.#minBytes = options.minBytes ?? FRAME_POOL_MIN_BYTES;
    this.#maxFreeBytes = options.maxFreeBytes ?? FRAME_POOL_MAX_FREE_BYTES;
  }

  /** A buffer of exactly `bytes` bytes (uninitialised, as Buffer.allocUnsafe). */
  acquire(bytes: number): Buffer {
    if (bytes < this.#minBytes) return Buffer.allocUnsafe(bytes);
    const size = classOf(bytes);
    let ab = this.#free.get(size)?.pop();
    if (ab) {
      this.#freeBytes -= size;
      this.reused++;
    } else ab = new ArrayBuffer(size);
    this.#out.add(ab);
    return Buffer.from(ab, 0, bytes);
  }

  /** Gives back a buffer acquire() returned (or any view of it); nothing may use it afterwards. */
  release(buf: Uint8Array | undefined): void {
    if (!buf) return;
    const ab = buf.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.#out.has(ab)) return;
    this.#out.delete(ab);
    if (this.#freeBytes + ab.byteLength > this.#maxFreeBytes) return;
    const list = this.#free.get(ab.byteLength) ?? this.#free.set(ab.byteLength, []).get(ab.byteLength)!;
    list.push(ab);
    this.#freeBytes += ab.byteLength;
  }

  get freeBytes(): number {
    return this.#freeBytes;
  }
}

/** The power of two at or above `bytes`. */
function classOf(bytes: number): number {
  return 2 ** Math.ceil(Math.log2(bytes));
}
