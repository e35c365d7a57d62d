// Rows into extended INSERT statements of at most maxStatementBytes each (mariadb-dump's
// net_buffer_length behaviour: a statement grows row by row until the next row would pass the
// limit; a single larger row gets a statement of its own). Each statement is handed on as one
// Buffer ending in ";\n"; nothing is kept after it is handed on.
import type { ColumnKind, RenderMode } from './row-render.ts';
import { maxRenderedBytes, renderRow } from './row-render.ts';

/** mariadb-dump's default net_buffer_length (1 MiB less its packet overhead). */
export const DEFAULT_STATEMENT_BYTES = 1024 * 1024 - 1025;

export class InsertBuilder {
  readonly #prefix: Buffer;
  readonly #kinds: readonly ColumnKind[];
  readonly #mode: RenderMode;
  readonly #maxBytes: number;
  readonly #emit: (statement: Buffer) => void;
  #buf: Buffer;
  #pos = 0;
  #rows = 0;
  rowCount = 0;

  constructor(prefix: string, kinds: readonly ColumnKind[], mode: RenderMode, maxBytes: number, emit: (statement: Buffer) => void) {
    this.#prefix = Buffer.from(prefix, 'utf8');
    this.#kinds = kinds;
    this.#mode = mode;
    this.#maxBytes = Math.max(maxBytes, this.#prefix.length + 16);
    this.#emit = emit;
    this.#buf = Buffer.allocUnsafe(this.#maxBytes + 64 * 1024);
  }

  add(row: readonly (Buffer | null)[]): void {
    const need = maxRenderedBytes(row) + 3;
    if (this.#rows === 0) this.#start(need);
    else this.#ensure(need);
    const rowStart = this.#pos;
    if (this.#rows > 0) {
      this.#buf[this.#pos++] = 0x2c;
      this.#buf[this.#pos++] = 0x0a;
    }
    this.#pos = renderRow(row, this.#kinds, this.#mode, this.#buf, this.#pos);
    this.rowCount++;
    if (this.#rows > 0 && this.#pos + 2 > this.#maxBytes) {
      // The row does not fit: the statement ends before it, and the row starts the next one.
      const rendered = Buffer.from(this.#buf.subarray(rowStart + 2, this.#pos));
      this.#pos = rowStart;
      this.flush();
      this.#start(rendered.length + 2);
      this.#pos += rendered.copy(this.#buf, this.#pos);
    }
    this.#rows++;
  }

  /** Ends the statement in progress, if any, and hands it on. */
  flush(): void {
    if (this.#rows === 0) return;
    this.#buf[this.#pos++] = 0x3b;
    this.#buf[this.#pos++] = 0x0a;
    // An exact copy goes on; the working buffer is kept (one per reader, not one per statement
    // waiting for the garbage collector), unless a large row grew it past its usual size.
    const out = Buffer.allocUnsafeSlow(this.#pos);
    this.#buf.copy(out, 0, 0, this.#pos);
    if (this.#buf.length > 2 * (this.#maxBytes + 64 * 1024)) this.#buf = Buffer.allocUnsafe(this.#maxBytes + 64 * 1024);
    this.#pos = 0;
    this.#rows = 0;
    this.#emit(out);
  }

  #start(need: number): void {
    this.#rows = 0;
    this.#pos = 0;
    this.#ensure(this.#prefix.length + need);
    this.#pos = this.#prefix.copy(this.#buf, 0);
  }

  #ensure(need: number): void {
    if (this.#pos + need + 2 <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + need + 2));
    this.#buf.copy(bigger, 0, 0, this.#pos);
    this.#buf = bigger;
  }
}
