// The dumper's pieces (insert-builder.ts: 64 KiB Buffers of INSERT statements), used again once
// the last stage of the backup has copied them: each piece waits a while in the connections'
// buffers and the streams' (megabytes in all when the writer is behind), so it outlived V8's
// young generation, was promoted, and only a full collection freed it: the repository writer's
// collector (external-memory-gc.ts) ran ~27 of them, ~20 ms each, for a 196 MiB dump, and the
// dead pieces waiting for them were part of the agent's peak RSS. A consumer that copies what it
// reads hands each piece back with release() (SnapshotWriteStream's releaseInput); one that
// does not (a file stream) never does, and the pool then only allocates, as before.
//
// A piece is released by its memory (its ArrayBuffer), so a view of it (the last piece of a
// chunk, cut to its length) releases it too; only memory this pool handed out and not yet got
// back is taken, so a foreign Buffer, or a second release of one piece, changes nothing. Pieces
// are handed on cut to the bytes written into them (insert-builder.ts), so what a reused
// piece held before is never passed on.

export class PiecePool {
  readonly pieceBytes: number;
  readonly #maxIdle: number;
  readonly #idle: ArrayBuffer[] = [];
  /** Memory handed out and not released yet (weak: a piece dropped after a failure is only garbage). */
  readonly #out = new WeakSet<ArrayBuffer>();
  /** Pieces handed out again, and made (the result's figures, tests). */
  reused = 0;
  allocated = 0;

  /** maxIdle: the most pieces kept for reuse (more released at once are left to the collector). */
  constructor(pieceBytes: number, maxIdle = 64) {
    this.pieceBytes = pieceBytes;
    this.#maxIdle = maxIdle;
  }

  acquire(): Buffer {
    let memory = this.#idle.pop();
    if (memory) this.reused++;
    else {
      memory = Buffer.allocUnsafeSlow(this.pieceBytes).buffer as ArrayBuffer;
      this.allocated++;
    }
    this.#out.add(memory);
    return Buffer.from(memory, 0, this.pieceBytes);
  }

  /** Takes a piece back (any view of it); nothing reads it any more. Anything else is ignored. */
  release(piece: Uint8Array): void {
    const memory = piece.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.#out.has(memory)) return;
    this.#out.delete(memory);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(memory);
  }
}
