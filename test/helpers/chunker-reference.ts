// The chunker as it was before its loop moved to WebAssembly (sidestash up to f6825c4), kept
// unchanged as the reference that common/repository/chunker-loops.test.ts holds the current
// chunker against: a stateful digest reset after each cut, restic's head of 64 bytes through
// the reset window, one JavaScript lane. Not used by the product.
// Content-defined chunking, bit-compatible with restic's Rabin chunker (restic/chunker):
// a 64-byte sliding window, fingerprints modulo the repository's polynomial, a cut where
// the low 20 bits are zero, chunks between 512 KiB and 8 MiB (1 MiB on average). With the
// same polynomial it cuts a stream exactly where `restic backup --stdin` does, so our
// snapshots and restic's deduplicate against each other.
//
// The 53-bit digest is kept as two 32-bit halves (hi: bits 32..60, lo: bits 0..31) so the
// per-byte loop stays in V8's small-integer arithmetic.
//
// Each chunk is assembled in a pooled buffer that starts at 4 MiB and doubles while the chunk
// grows, and is handed out as a view of it; whoever is done with a chunk gives it back with
// `release`. Input buffers are copied once and dropped at once, so they die young, and a long
// stream makes no per-chunk garbage: the agent's memory stays flat.
import { SizeClassPool } from '../../common/repository/buffer-pool.ts';
import { POLYNOMIAL_DEGREE, degree, polMod } from '../../common/repository/polynomial.ts';

const MIN_CHUNK_BYTES = 512 * 1024;
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const WINDOW_SIZE = 64;
const SPLIT_MASK = (1 << 20) - 1;
/** Where the digest's top byte (bits 45..52) starts in its high half. */
const HI_SHIFT = POLYNOMIAL_DEGREE - 8 - 32;

/**
 * restic's two tables in one array of [high, low] halves: the out table (a byte leaving the
 * window) at 2*b, the mod table (reducing by the digest's top byte) at MOD + 2*b. One array
 * instead of four makes the per-byte loop ~10% faster (fewer bases and bounds to hold).
 */
type Tables = Int32Array;
const MOD = 512;

const tableCache = new Map<bigint, Tables>();

function appendByte(hash: bigint, b: number, pol: bigint): bigint {
  return polMod((hash << 8n) | BigInt(b), pol);
}

/** restic's tables computed entry by entry (chunker.ts derives most of them by linearity). */
export function tablesFor(pol: bigint): Tables {
  const cached = tableCache.get(pol);
  if (cached) return cached;
  const k = degree(pol);
  if (k !== POLYNOMIAL_DEGREE) throw new RangeError(`chunker polynomial must have degree ${POLYNOMIAL_DEGREE}`);
  const t: Tables = new Int32Array(2 * MOD);
  for (let b = 0; b < 256; b++) {
    let h = appendByte(0n, b, pol);
    for (let i = 0; i < WINDOW_SIZE - 1; i++) h = appendByte(h, 0, pol);
    t[2 * b] = Number(h >> 32n);
    t[2 * b + 1] = Number(BigInt.asIntN(32, h));
    const m = polMod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k));
    t[MOD + 2 * b] = Number(m >> 32n);
    t[MOD + 2 * b + 1] = Number(BigInt.asIntN(32, m));
  }
  tableCache.set(pol, t);
  return t;
}

/**
 * Rolls the digest over buf[from..to) with the window being the 64 bytes before each
 * position; returns the position after the first split point, or -1. `digest` holds the
 * [hi, lo] halves in and out. A function of its own so V8 optimizes this one loop alone.
 */
function scan(buf: Uint8Array, from: number, to: number, t: Tables, digest: Int32Array): number {
  let hi = digest[0]!;
  let lo = digest[1]!;
  let cut = -1;
  for (let i = from; i < to; i++) {
    const out = buf[i - WINDOW_SIZE]! << 1;
    hi ^= t[out]!;
    lo ^= t[out | 1]!;
    // MOD + 2 * (top byte): the byte at bits HI_SHIFT.., taken one bit lower, times two.
    const index = MOD | ((hi >>> (HI_SHIFT - 1)) & 0x1fe);
    hi = ((hi << 8) | (lo >>> 24)) ^ t[index]!;
    lo = ((lo << 8) | buf[i]!) ^ t[index | 1]!;
    if ((lo & SPLIT_MASK) === 0) {
      cut = i + 1;
      break;
    }
  }
  digest[0] = hi;
  digest[1] = lo;
  return cut;
}

/**
 * Chunk buffers start at 4 MiB (most chunks fit: on the benchmark's dump the median is 1.7 MiB,
 * the 90th percentile 4.8 MiB) and up to 16 MiB of them are kept for reuse: a chunk waiting for
 * compression holds its buffer, so a smaller pool kept allocating fresh ones. Measured on an
 * 890 MiB dump against 1 MiB and 4 MiB: page faults 500k -> 220k, ~0.9 CPU-s less system time,
 * peak RSS unchanged (115 MiB). Starting at 8 MiB (no growing at all) raised RSS to 126 MiB.
 */
const IDLE_CHUNK_BUFFER_BYTES = 16 * 1024 * 1024;
const FIRST_CHUNK_BUFFER_BYTES = 4 * 1024 * 1024;

export class ReferenceChunker {
  readonly #t: Tables;
  readonly #digest = new Int32Array(2);
  readonly #pool = new SizeClassPool(FIRST_CHUNK_BUFFER_BYTES, MAX_CHUNK_BYTES, IDLE_CHUNK_BUFFER_BYTES);
  /** The chunk being assembled, its length, and how much of it has been fingerprinted. */
  #cur: Buffer | undefined;
  #len = 0;
  #scanned = 0;

  constructor(polynomial: bigint) {
    this.#t = tablesFor(polynomial);
  }

  /** Feeds bytes; returns the chunks completed by them (often none). */
  push(buf: Uint8Array): Buffer[] {
    const chunks: Buffer[] = [];
    let pos = 0;
    while (pos < buf.length) {
      let cur = this.#current();
      if (this.#len === cur.length) cur = this.#grow();
      const n = Math.min(buf.length - pos, cur.length - this.#len);
      cur.set(buf.subarray(pos, pos + n), this.#len);
      this.#len += n;
      pos += n;
      // One read can complete a chunk and start the next (or, with large writes, several).
      for (let cut = this.#scan(); cut >= 0; cut = this.#scan()) chunks.push(this.#cutAt(cut));
    }
    return chunks;
  }

  /** The last, possibly short, chunk; undefined when the stream ended on a cut. */
  finish(): Buffer | undefined {
    if (this.#len === 0) return undefined;
    return this.#cutAt(this.#len);
  }

  /** Gives a chunk's buffer back for reuse once nothing reads the chunk any more. */
  release(chunk: Buffer): void {
    this.#pool.release(chunk);
  }

  /** Moves the chunk into a buffer twice the size (full buffers are below the maximum). */
  #grow(): Buffer {
    const cur = this.#cur!;
    const next = this.#pool.take(cur.length * 2);
    next.set(cur.subarray(0, this.#len), 0);
    this.#pool.release(cur);
    this.#cur = next;
    return next;
  }

  #current(rest = 0): Buffer {
    if (!this.#cur) {
      this.#cur = this.#pool.take(rest);
      this.#len = 0;
      this.#scanned = 0;
      // restic slides a single 1 byte into the empty window: digest 1.
      this.#digest[0] = 0;
      this.#digest[1] = 1;
    }
    return this.#cur;
  }

  /** Hands out cur[0..cut) and moves the bytes after the cut into a fresh buffer. */
  #cutAt(cut: number): Buffer {
    const cur = this.#cur!;
    const rest = this.#len - cut;
    this.#cur = undefined;
    if (rest > 0) this.#current(rest).set(cur.subarray(cut, cut + rest), 0);
    this.#len = rest;
    return cur.subarray(0, cut);
  }

  /**
   * Fingerprints what has arrived of the current chunk; returns the cut position or -1.
   * Like restic: the first MIN-64 bytes are skipped, the next 64 slide through the reset
   * window (all zero but for the 1 that went in first, which leaves last), then every byte
   * leaves the window 64 positions after it entered; the chunk ends where the digest's low
   * 20 bits are zero, or at the maximum size.
   */
  #scan(): number {
    const cur = this.#cur!;
    const len = this.#len;
    let i = Math.max(this.#scanned, MIN_CHUNK_BYTES - WINDOW_SIZE);
    if (i >= len) {
      this.#scanned = len;
      return -1;
    }
    const t = this.#t;
    const digest = this.#digest;
    for (; i < MIN_CHUNK_BYTES && i < len; i++) {
      const out = i === MIN_CHUNK_BYTES - 1 ? 1 : 0;
      let hi = digest[0]! ^ t[2 * out]!;
      const lo = digest[1]! ^ t[2 * out + 1]!;
      const index = MOD + 2 * ((hi >>> HI_SHIFT) & 0xff);
      hi = ((hi << 8) | (lo >>> 24)) ^ t[index]!;
      digest[0] = hi;
      digest[1] = ((lo << 8) | cur[i]!) ^ t[index + 1]!;
    }
    if (i === MIN_CHUNK_BYTES && this.#scanned < MIN_CHUNK_BYTES && (digest[1]! & SPLIT_MASK) === 0) {
      this.#scanned = i;
      return i;
    }
    const end = Math.min(len, MAX_CHUNK_BYTES);
    const cut = i < end ? scan(cur, i, end, this.#t, digest) : -1;
    if (cut >= 0) return cut;
    this.#scanned = end;
    return end === MAX_CHUNK_BYTES ? MAX_CHUNK_BYTES : -1;
  }
}
