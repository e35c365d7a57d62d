// Rows into extended INSERT statements of at most maxStatementBytes each (mariadb-dump's
// net_buffer_length behaviour: a statement grows row by row until the next row would pass the
// limit; a single larger row gets a statement of its own). The statements are handed on as the
// dump's bytes in pieces of at most PIECE_BYTES (a statement may span pieces, a piece may hold
// the end of one statement and the start of the next), each piece a Buffer of its own that is
// not written again until whoever read it gives it back (piece-pool.ts): what waits between a
// reader and the writer is pieces of 64 KiB, not one buffer of a whole statement (1 MiB) per
// statement, and the reader's memory is one piece and one row's rendering.
import type { ColumnKind, RenderMode } from './row-render.ts';
import { maxRenderedBytes, renderRow } from './row-render.ts';
import { decodeRowPacket, packetRowRenderer } from './row-render-wasm.ts';
import type { PacketRowRenderer } from './row-render-wasm.ts';

/** One renderer for every builder (each rendering is copied out before the next): made at the first row. */
let sharedRenderer: PacketRowRenderer | undefined | null = null;
function renderer(): PacketRowRenderer | undefined {
  if (sharedRenderer === null) sharedRenderer = packetRowRenderer();
  return sharedRenderer;
}

/** mariadb-dump's default net_buffer_length (1 MiB less its packet overhead). */
export const DEFAULT_STATEMENT_BYTES = 1024 * 1024 - 1025;
/** The most bytes in one piece handed on (a pipe's read size). */
export const PIECE_BYTES = 64 * 1024;

const ROW_SEPARATOR = Buffer.from(',\n');
const STATEMENT_END = Buffer.from(';\n');

/** Where pieces come from and go back to (piece-pool.ts). */
export interface PieceSource {
  acquire(): Buffer;
  handOn(view: Uint8Array): void;
  release(piece: Uint8Array): void;
}

export class InsertBuilder {
  readonly #prefix: Buffer;
  readonly #kinds: readonly ColumnKind[];
  readonly #mode: RenderMode;
  readonly #maxBytes: number;
  readonly #emit: (piece: Buffer) => void;
  readonly #pieceBytes: number;
  /** The piece being filled (allocated when the first byte comes). */
  #piece: Buffer | undefined;
  #piecePos = 0;
  /** One row's rendering by add() (made at its first row; grown for a larger row, back to its usual size after it). */
  #row: Buffer | undefined;
  #statementBytes = 0;
  #rows = 0;
  rowCount = 0;

  readonly #pool: PieceSource | undefined;

  /** pool: where pieces come from (a PiecePool of pieceBytes; default a new Buffer each). */
  constructor(prefix: string, kinds: readonly ColumnKind[], mode: RenderMode, maxBytes: number, emit: (piece: Buffer) => void, pieceBytes = PIECE_BYTES, pool?: PieceSource) {
    this.#prefix = Buffer.from(prefix, 'utf8');
    this.#kinds = kinds;
    this.#mode = mode;
    this.#maxBytes = Math.max(maxBytes, this.#prefix.length + 16);
    this.#emit = emit;
    this.#pieceBytes = Math.max(16, pieceBytes);
    this.#pool = pool;
  }

  add(row: readonly (Buffer | null)[]): void {
    const need = maxRenderedBytes(row);
    if (!this.#row || need > this.#row.length) this.#row = Buffer.allocUnsafeSlow(Math.max(need, this.#pieceBytes));
    this.#place(this.#row, renderRow(row, this.#kinds, this.#mode, this.#row, 0));
    if (this.#row.length > 4 * this.#pieceBytes) this.#row = undefined;
  }

  /**
   * A row as the server sent it: the payload buf[start, end) of a text-protocol row packet (in
   * 'client' mode, kinds' values; in 'server' mode, the one rendered value). The same bytes as
   * add() of its values, rendered without a Buffer per value (row-render-wasm.ts).
   */
  addPacket(buf: Buffer, start: number, end: number): void {
    const r = this.#mode === 'client' ? renderer() : undefined;
    const length = r ? r.render(buf, start, end, this.#kinds) : -1;
    if (length >= 0) this.#place(r!.out, length);
    else this.add(decodeRowPacket(buf, start, end, this.#mode === 'client' ? this.#kinds.length : 1));
  }

  /** Adds a row's rendering, src[0, length), to the statement in progress or to a new one. */
  #place(src: Uint8Array, length: number): void {
    // The row does not fit: the statement ends before it, and the row starts the next one.
    if (this.#rows > 0 && this.#statementBytes + ROW_SEPARATOR.length + length + STATEMENT_END.length > this.#maxBytes) this.#endStatement();
    if (this.#rows === 0) this.#write(this.#prefix, this.#prefix.length);
    else this.#write(ROW_SEPARATOR, ROW_SEPARATOR.length);
    this.#write(src, length);
    this.#rows++;
    this.rowCount++;
  }

  /** Ends the statement in progress, if any, and hands on every byte not handed on yet. */
  flush(): void {
    this.#endStatement();
    if (!this.#piece || this.#piecePos === 0) return;
    let piece = this.#piece.subarray(0, this.#piecePos);
    // A piece less than half full (the end of a small chunk) is handed on as a copy of its own
    // size: the budgets count the bytes handed on, and a few bytes must not hold a whole piece
    // (many small tables read ahead held a piece each).
    if (this.#piecePos <= this.#pieceBytes >> 1) {
      piece = Buffer.from(piece);
      this.#pool?.release(this.#piece);
    } else this.#pool?.handOn(piece);
    this.#piece = undefined;
    this.#piecePos = 0;
    this.#emit(piece);
  }

  #endStatement(): void {
    if (this.#rows === 0) return;
    this.#write(STATEMENT_END, STATEMENT_END.length);
    this.#rows = 0;
    this.#statementBytes = 0;
  }

  /** Copies src's first `length` bytes into the pieces, handing on each piece that fills. */
  #write(src: Uint8Array, length: number): void {
    this.#statementBytes += length;
    let from = 0;
    while (from < length) {
      this.#piece ??= this.#pool ? this.#pool.acquire() : Buffer.allocUnsafeSlow(this.#pieceBytes);
      const n = Math.min(length - from, this.#pieceBytes - this.#piecePos);
      // TypedArray set: V8's own copy, cheaper than Buffer.copy's checks for rows of a few hundred bytes.
      this.#piece.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), this.#piecePos);
      from += n;
      this.#piecePos += n;
      if (this.#piecePos === this.#pieceBytes) {
        let piece = this.#piece;
        if (piece.length !== this.#pieceBytes) {
          piece = piece.subarray(0, this.#pieceBytes);
          this.#pool?.handOn(piece);
        }
        this.#piece = undefined;
        this.#piecePos = 0;
        this.#emit(piece);
      }
    }
  }
}
