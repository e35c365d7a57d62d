// Finds the statements of a SQL dump in a byte stream, as the mariadb client does when it reads
// a file (client/mysql.cc, add_line): strings ('...', "...", `...`, backslash escapes and doubled
// quotes), comments (-- , #, /* */), executable comments (/*! */, /*M! */) whose content is SQL,
// and the DELIMITER command at the start of a line, which the dump uses around triggers,
// routines and events. Nothing is decoded: statements are byte ranges of the dump, so binary
// data in strings stays exactly as it was written.
//
// The splitter keeps no more than one statement (in collect mode) and a few bytes of lookahead;
// a chunk can end anywhere, the statements are the same (statement-splitter.test.ts feeds every
// split). It counts the parenthesised groups at the top level of each statement, which for an
// INSERT ... VALUES (...),(...) are its rows (plus one for a column list).
import { ErrorCodes, SidestashError } from '../errors.ts';
import { delimiterCommand } from './delimiter-command.ts';

export interface DumpStatement {
  /** Byte offset just past the previous statement (or DELIMITER line): statements tile the dump. */
  offset: number;
  /** Byte offset of its first byte that is neither whitespace nor a plain comment. */
  contentOffset: number;
  /** Byte offset just past its delimiter (or the dump's end). */
  end: number;
  /** Its bytes from contentOffset up to the delimiter (collect mode only). */
  text?: Buffer;
  /** text with headroomBytes bytes before it, in one buffer of its own (collect mode with headroomBytes). */
  framed?: Buffer;
  /** Its first bytes (up to HEAD_BYTES) from contentOffset, for classification. */
  head: Buffer;
  /** Parenthesised groups at the top level, outside strings and comments. */
  topLevelGroups: number;
  /** The delimiter that ended it ('' for a last statement without one). */
  delimiter: string;
}

export const HEAD_BYTES = 512;
/** A DELIMITER command line longer than this is not one. */
const COMMAND_LINE_BYTES = 4096;

/** Lexer states (numbers: compared in the hot loop). */
const S = { Normal: 0, SQuote: 1, DQuote: 2, Backtick: 3, LineComment: 4, BlockComment: 5 } as const;
type State = (typeof S)[keyof typeof S];

const NL = 0x0a;
const SQ = 0x27;
const DQ = 0x22;
const BT = 0x60;
const BS = 0x5c;
const LP = 0x28;
const RP = 0x29;

/** What the fast path does with a byte: pass it, a string, a group, or leave it to the full lexer. */
const K_PLAIN = 0;
const K_QUOTE = 1;
const K_OPEN = 2;
const K_CLOSE = 3;
const K_OTHER = 4;

function byteKinds(delimiter: Buffer): Uint8Array {
  const kinds = new Uint8Array(256);
  kinds[SQ] = K_QUOTE;
  kinds[LP] = K_OPEN;
  kinds[RP] = K_CLOSE;
  for (const c of [DQ, BT, 0x2d, 0x23, 0x2f, 0x2a, delimiter[0]!]) kinds[c] = K_OTHER;
  return kinds;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** What ends '--' as a comment start after it: the client's my_isspace (utf8/latin1: 0x09-0x0d, 0x20) or NUL. */
function isCommentSpace(c: number): boolean {
  return c === 0x20 || c === 0x00 || (c >= 0x09 && c <= 0x0d);
}

export interface StatementSplitterOptions {
  /** Keep each statement's bytes (text); without it only offsets, head and counts. */
  collect?: boolean;
  /**
   * Free bytes before each statement's text (framed): room for a wire protocol's header, so that
   * a statement is copied once, from the stream into the buffer that is sent.
   */
  headroomBytes?: number;
  /** A statement longer than this fails the split (the server's max_allowed_packet). */
  maxStatementBytes?: number;
  /** Where each statement's buffer comes from (collect mode; default Buffer.allocUnsafe): a FramePool's acquire. */
  allocate?: (bytes: number) => Buffer;
}

export class StatementSplitter {
  readonly #collect: boolean;
  readonly #headroom: number;
  readonly #maxBytes: number;
  readonly #allocate: (bytes: number) => Buffer;
  #delimiter: Buffer = Buffer.from(';');
  #state: State = S.Normal;
  #escape = false;
  #execDepth = 0;
  #depth = 0;
  #groups = 0;
  /** Absolute offset of the buffer being scanned. */
  #base = 0;
  #stmtStart = 0;
  #contentStart = -1;
  /** Whether only whitespace came since the last newline (DELIMITER is a command only there). */
  #lineClean = true;
  #parts: Buffer[] = [];
  #head: Buffer[] = [];
  #headBytes = 0;
  #carry: Buffer | undefined;
  /** Where #scan goes on in the current buffer, and from where its bytes are not kept yet. */
  #i = 0;
  #keptFrom = 0;
  #kinds = byteKinds(this.#delimiter);
  /** False after SET sql_mode with NO_BACKSLASH_ESCAPES (the loader tells the splitter). */
  backslashEscapes = true;

  constructor(options: StatementSplitterOptions = {}) {
    this.#collect = options.collect ?? false;
    this.#headroom = options.headroomBytes ?? 0;
    this.#maxBytes = options.maxStatementBytes ?? Number.MAX_SAFE_INTEGER;
    this.#allocate = options.allocate ?? Buffer.allocUnsafe;
  }

  /** The delimiter in force (changed by DELIMITER lines). */
  get delimiter(): string {
    return this.#delimiter.toString('latin1');
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#base;
  }

  /**
   * Statements that end in this chunk, one at a time: the consumer may change
   * backslashEscapes between two (a SET sql_mode takes effect from the next statement).
   */
  *feed(chunk: Buffer): Generator<DumpStatement> {
    let buf = chunk;
    if (this.#carry) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    yield* this.#statements(buf, false);
  }

  /** At the end of the dump: the last statement, if it has content but no delimiter. */
  *end(): Generator<DumpStatement> {
    const buf = this.#carry ?? Buffer.alloc(0);
    this.#carry = undefined;
    yield* this.#statements(buf, true);
    if (this.#contentStart >= 0) yield this.#emit(this.#base, this.#base, '');
  }

  #keep(buf: Buffer, from: number, to: number): void {
    const start = Math.max(from, this.#contentStart - this.#base);
    if (this.#contentStart < 0 || to <= start) return;
    if (this.#headBytes < HEAD_BYTES) {
      const h = buf.subarray(start, Math.min(to, start + HEAD_BYTES - this.#headBytes));
      this.#head.push(Buffer.from(h));
      this.#headBytes += h.length;
    }
    if (this.#collect) {
      this.#parts.push(buf.subarray(start, to));
    }
    if (this.#base + to - this.#contentStart > this.#maxBytes) {
      throw new SidestashError(ErrorCodes.RESTORE_FAILED, `the statement at byte ${this.#contentStart} of the dump is longer than ${this.#maxBytes} bytes (the server's max_allowed_packet)`, { details: { offset: this.#contentStart } });
    }
  }

  #emit(contentEnd: number, end: number, delimiter: string): DumpStatement {
    const s: DumpStatement = {
      offset: this.#stmtStart,
      contentOffset: this.#contentStart,
      end,
      head: this.#head.length === 1 ? this.#head[0]! : Buffer.concat(this.#head, this.#headBytes),
      topLevelGroups: this.#groups,
      delimiter,
    };
    if (this.#collect) {
      // Buffers of the stream are not ours to keep: the text is copied out, once.
      const length = contentEnd - this.#contentStart;
      const framed = this.#allocate(this.#headroom + length);
      let at = this.#headroom;
      for (const part of this.#parts) {
        const n = Math.min(part.length, framed.length - at);
        part.copy(framed, at, 0, n);
        at += n;
        if (at === framed.length) break;
      }
      s.text = framed.subarray(this.#headroom);
      if (this.#headroom > 0) s.framed = framed;
    }
    this.#stmtStart = end;
    this.#contentStart = -1;
    this.#parts = [];
    this.#head = [];
    this.#headBytes = 0;
    this.#groups = 0;
    this.#depth = 0;
    this.#execDepth = 0;
    return s;
  }

  *#statements(buf: Buffer, eof: boolean): Generator<DumpStatement> {
    this.#i = 0;
    this.#keptFrom = 0;
    for (;;) {
      const s = this.#scan(buf, eof);
      if (!s) return;
      yield s;
    }
  }

  /**
   * Scans buf (which starts at this.#base) from this.#i up to the end of the next statement and
   * returns it, or to the end of buf (undefined); stops early and carries the rest when it needs
   * lookahead. Not a generator: V8 optimises this loop much better as a plain method.
   */
  #scan(buf: Buffer, eof: boolean): DumpStatement | undefined {
    const n = buf.length;
    let i = this.#i;
    let keptFrom = this.#keptFrom;
    const carry = (at: number): void => {
      this.#keep(buf, keptFrom, at);
      this.#carry = Buffer.from(buf.subarray(at));
      this.#base += at;
    };
    while (i < n) {
      switch (this.#state) {
        case S.SQuote:
        case S.DQuote: {
          const q = this.#state === S.SQuote ? SQ : DQ;
          if (this.#escape) {
            this.#escape = false;
            i++;
            continue;
          }
          const esc = this.backslashEscapes;
          while (i < n) {
            const c = buf[i]!;
            if (c === q || (c === BS && esc)) break;
            i++;
          }
          if (i >= n) continue;
          if (buf[i] === q) this.#state = S.Normal;
          else this.#escape = true;
          i++;
          continue;
        }
        case S.Backtick: {
          const j = buf.indexOf(BT, i);
          if (j < 0) {
            i = n;
            continue;
          }
          this.#state = S.Normal;
          i = j + 1;
          continue;
        }
        case S.LineComment: {
          const j = buf.indexOf(NL, i);
          if (j < 0) {
            i = n;
            continue;
          }
          this.#state = S.Normal;
          this.#lineClean = true;
          i = j + 1;
          continue;
        }
        case S.BlockComment: {
          const j = buf.indexOf('*/', i, 'latin1');
          if (j < 0) {
            // A '*' at the end may start the '*/' of the next chunk.
            if (!eof && buf[n - 1] === 0x2a) {
              carry(n - 1);
              return;
            }
            i = n;
            continue;
          }
          this.#state = S.Normal;
          i = j + 2;
          continue;
        }
      }
      // Normal state. Inside a statement, the fast path runs over what needs no decision
      // (digits, commas, words, short single-quoted strings): it is where a dump's bytes are.
      if (this.#contentStart >= 0) {
        i = this.#fast(buf, i, n);
        if (i >= n) continue;
      }
      const c = buf[i]!;
      if (this.#contentStart < 0) {
        if (isSpace(c)) {
          if (c === NL) this.#lineClean = true;
          i++;
          continue;
        }
        if ((c === 0x64 || c === 0x44) && this.#lineClean) {
          const nl = buf.indexOf(NL, i);
          if (nl < 0 && !eof && n - i < COMMAND_LINE_BYTES) {
            carry(i);
            return;
          }
          const lineEnd = nl < 0 ? n : nl + 1;
          const delimiter = delimiterCommand(buf.toString('latin1', i, Math.min(nl < 0 ? n : nl, i + COMMAND_LINE_BYTES)), this.#base + i);
          if (delimiter !== undefined) {
            this.#delimiter = Buffer.from(delimiter, 'latin1');
            this.#kinds = byteKinds(this.#delimiter);
            i = lineEnd;
            keptFrom = i;
            this.#stmtStart = this.#base + i;
            this.#lineClean = true;
            continue;
          }
        }
      }
      // The delimiter first, then comments, as the client reads a line (mysql.cc add_line): a
      // delimiter that starts like a comment is the delimiter (mariadb-binlog writes /*!*/;).
      const d = this.#delimiter;
      if (c === d[0]) {
        if (i + d.length > n && !eof) {
          carry(i);
          return;
        }
        if (d.length === 1 || buf.subarray(i, i + d.length).equals(d)) {
          this.#keep(buf, keptFrom, i);
          i += d.length;
          keptFrom = i;
          // An empty statement (a delimiter after nothing but comments) is not sent, as the client does.
          this.#lineClean = false;
          if (this.#contentStart < 0) {
            this.#stmtStart = this.#base + i;
            continue;
          }
          this.#i = i;
          this.#keptFrom = keptFrom;
          return this.#emit(this.#base + i - d.length, this.#base + i, d.toString('latin1'));
        }
      }
      if (c === 0x2d || c === 0x23 || c === 0x2f) {
        // '-- ', '#', '/*': comments, unless '/*!' or '/*M!' (SQL inside).
        if (i + 3 >= n && !eof) {
          carry(i);
          return;
        }
        // '--' is a comment before whitespace (0x09-0x0d, 0x20), a NUL or the end, and anywhere
        // at the start of a statement (the client: "lines starting with '--'", add_line).
        if (c === 0x23 || (c === 0x2d && buf[i + 1] === 0x2d && (this.#contentStart < 0 || i + 2 >= n || isCommentSpace(buf[i + 2]!)))) {
          this.#state = S.LineComment;
          i += c === 0x23 ? 1 : 2;
          continue;
        }
        if (c === 0x2f && buf[i + 1] === 0x2a) {
          const exec = buf[i + 2] === 0x21 || (buf[i + 2] === 0x4d && buf[i + 3] === 0x21);
          if (!exec) {
            this.#state = S.BlockComment;
            this.#lineClean = false;
            i += 2;
            continue;
          }
          this.#markContent(i);
          this.#execDepth++;
          i += buf[i + 2] === 0x21 ? 3 : 4;
          continue;
        }
      }
      this.#markContent(i);
      if (c === SQ) {
        this.#state = S.SQuote;
      } else if (c === DQ) {
        this.#state = S.DQuote;
      } else if (c === BT) {
        this.#state = S.Backtick;
      } else if (c === LP) {
        if (this.#depth++ === 0) this.#groups++;
      } else if (c === RP) {
        if (this.#depth > 0) this.#depth--;
      } else if (c === 0x2a && this.#execDepth > 0) {
        if (i + 1 >= n && !eof) {
          carry(i);
          return;
        }
        if (buf[i + 1] === 0x2f) {
          this.#execDepth--;
          i += 2;
          continue;
        }
      }
      i++;
    }
    this.#keep(buf, keptFrom, n);
    this.#base += n;
    return undefined;
  }

  /**
   * The fast path: runs until a byte it leaves to the full lexer, or the end of buf (then in
   * the state it ended in). Small, with its state in locals, so that V8 optimises it on its own.
   */
  #fast(buf: Buffer, i: number, n: number): number {
    const kinds = this.#kinds;
    const esc = this.backslashEscapes;
    let depth = this.#depth;
    let groups = this.#groups;
    let nextBackslash = -1;
    while (i < n) {
      let k = kinds[buf[i]!]!;
      // Plain bytes (digits, commas, words) in a loop of their own: V8 runs this one about
      // twice as fast as a step of the outer loop per byte (numeric rows are mostly these).
      while (k === K_PLAIN && ++i < n) k = kinds[buf[i]!]!;
      if (i >= n) break;
      if (k === K_QUOTE) {
        let j = i + 1;
        // The closing quote by memchr (indexOf): a dump's strings are often long. A backslash
        // before it escapes one byte, so the search goes on after that byte; the next
        // backslash's position is remembered, so each byte is searched for it once.
        for (;;) {
          const q = buf.indexOf(SQ, j);
          if (esc && nextBackslash < j) {
            nextBackslash = buf.indexOf(BS, j);
            if (nextBackslash < 0) nextBackslash = n;
          }
          if (esc && nextBackslash < n && (q < 0 || nextBackslash < q)) {
            j = nextBackslash + 2;
            if (j >= n) break;
            continue;
          }
          j = q < 0 ? n : q;
          break;
        }
        if (j >= n) {
          // The string goes on in the next chunk (after an escape when j passed n).
          this.#state = S.SQuote;
          this.#escape = j > n;
          i = n;
          break;
        }
        i = j + 1;
      } else if (k === K_OPEN) {
        if (depth++ === 0) groups++;
        i++;
      } else if (k === K_CLOSE) {
        if (depth > 0) depth--;
        i++;
      } else break;
    }
    this.#depth = depth;
    this.#groups = groups;
    return i;
  }

  #markContent(i: number): void {
    if (this.#contentStart < 0) this.#contentStart = this.#base + i;
  }
}
