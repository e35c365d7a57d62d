// The dumper's pieces (insert-builder.ts: 64 KiB Buffers of INSERT statements), used again once
// the last stage of the backup has copied them: each piece waits a while in the connections'
// buffers and the streams' (megabytes in all when the writer is behind), so it outlived V8's
// young generation, was promoted, and only a full collection freed it: the repository writer's
// collector (external-memory-gc.ts) ran ~27 of them, ~20 ms each, for a 196 MiB dump, and the
// dead pieces waiting for them were part of the agent's peak RSS. A consumer that copies what it
// reads hands each piece back with release() (SnapshotWriteStream's releaseInput); one that
// does not (a file stream) never does, and the pool then only allocates, as before.
//
// Only the very Buffer that went out comes back: the piece as acquired, or the view of it that
// was handed on (handOn: a piece cut to the bytes written into it). Anything else is ignored: a
// foreign Buffer, a second release, and a part of a piece (a stream that split a piece, giving
// its consumer one part while the other still waits, must never free the memory under it).
// Pieces are handed on cut to the bytes written into them (insert-builder.ts), so what a reused
// piece held before is never passed on.

export class PiecePool {
  readonly pieceBytes: number;
  readonly #maxIdle: number;
  readonly #idle: ArrayBuffer[] = [];
  /** Memory handed out and not released yet, and the Buffer that must come back (weak: a piece dropped after a failure is only garbage). */
  readonly #out = new WeakMap<ArrayBuffer, Uint8Array>();
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
    const piece = Buffer.from(memory, 0, this.pieceBytes);
    this.#out.set(memory, piece);
    return piece;
  }

  /** The view of an acquired piece that goes out in its place (release takes this one back). */
  handOn(view: Uint8Array): void {
    const memory = view.buffer;
    if (memory instanceof ArrayBuffer && this.#out.has(memory)) this.#out.set(memory, view);
  }

  /** Takes a piece back (the Buffer that went out); nothing reads it any more. Anything else is ignored. */
  release(piece: Uint8Array): void {
    const memory = piece.buffer;
    if (!(memory instanceof ArrayBuffer) || this.#out.get(memory) !== piece) return;
    this.#out.delete(memory);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(memory);
  }
}
