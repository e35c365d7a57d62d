// A Writable that opens its destination only when the first byte arrives: a restore starts the
// mariadb client (and creates the database it restores into) only once the snapshot has shown
// that there is something to restore, so a restore that fails before that changed nothing.
import { Writable, finished } from 'node:stream';

export class DeferredWritable extends Writable {
  readonly #open: () => Promise<Writable>;
  #dest: Writable | undefined;

  constructor(open: () => Promise<Writable>) {
    super();
    this.#open = open;
  }

  /** Whether the destination was opened (some byte arrived). */
  get opened(): boolean {
    return this.#dest !== undefined;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const write = (dest: Writable): void => {
      if (dest.write(chunk)) cb();
      else dest.once('drain', () => cb());
    };
    if (this.#dest) return write(this.#dest);
    this.#open().then((dest) => {
      this.#dest = dest;
      dest.on('error', (err) => this.destroy(err));
      write(dest);
    }, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const dest = this.#dest;
    if (!dest) return cb();
    finished(dest, { readable: false }, (err) => cb(err ?? null));
    dest.end();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (err) this.#dest?.destroy(err);
    cb(err);
  }
}
