// Content-defined chunking, bit-compatible with restic's Rabin chunker (restic/chunker):
// a 64-byte sliding window, fingerprints modulo the repository's polynomial, a cut where
// the low 20 bits are zero, chunks between 512 KiB and 8 MiB (1 MiB on average). With the
// same polynomial it cuts a stream exactly where `restic backup --stdin` does, so our
// snapshots and restic's deduplicate against each other.
//
// The per-byte loop runs in WebAssembly (chunker-wasm.ts: four independent lanes, each
// digest one i64), or, where WebAssembly is switched off, in JavaScript (chunker-scan-js.ts);
// both cut at the same places.
//
// Each chunk is assembled in a pooled buffer that starts at 4 MiB and doubles while the chunk
// grows, and is handed out as a view of it; whoever is done with a chunk gives it back with
// `release`. Input buffers are copied once and dropped at once, so they die young, and a long
// stream makes no per-chunk garbage: the agent's memory stays flat.
import { SizeClassPool } from './buffer-pool.ts';
import { jsScanner } from './chunker-scan-js.ts';
import { wasmAvailable, wasmScanner } from './chunker-wasm.ts';
import type { ChunkScanner } from './chunker-wasm.ts';
import { POLYNOMIAL_DEGREE, degree, polMod } from './polynomial.ts';

export const MIN_CHUNK_BYTES = 512 * 1024;
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const WINDOW_SIZE = 64;

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

/**
 * Both tables are linear over GF(2) in the byte (appending and reducing are XOR-linear), so
 * only the eight one-bit bytes are computed with polynomial arithmetic and every other entry
 * is the XOR of two computed before it. It computed all 256 entries by 64 BigInt reductions
 * each: ~36 ms of every backup's start (profile of the agent), now ~2 ms.
 */
export function tablesFor(pol: bigint): Tables {
  const cached = tableCache.get(pol);
  if (cached) return cached;
  const k = degree(pol);
  if (k !== POLYNOMIAL_DEGREE) throw new RangeError(`chunker polynomial must have degree ${POLYNOMIAL_DEGREE}`);
  const t: Tables = new Int32Array(2 * MOD);
  for (let b = 1; b < 256; b++) {
    const low = b & -b;
    if (low === b) {
      let h = appendByte(0n, b, pol);
      for (let i = 0; i < WINDOW_SIZE - 1; i++) h = appendByte(h, 0, pol);
      t[2 * b] = Number(h >> 32n);
      t[2 * b + 1] = Number(BigInt.asIntN(32, h));
      const m = polMod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k));
      t[MOD + 2 * b] = Number(m >> 32n);
      t[MOD + 2 * b + 1] = Number(BigInt.asIntN(32, m));
      continue;
    }
    // Entry 0 of both is 0; every half is XORed as it is (the halves are independent bits).
    for (const base of [0, MOD]) {
      t[base + 2 * b] = t[base + 2 * (b ^ low)]! ^ t[base + 2 * low]!;
      t[base + 2 * b + 1] = t[base + 2 * (b ^ low) + 1]! ^ t[base + 2 * low + 1]!;
    }
  }
  tableCache.set(pol, t);
  return t;
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

/** Where the per-byte loop runs: WebAssembly, or JavaScript where WebAssembly is off (node --jitless). */
export type ChunkerLoop = 'wasm' | 'js';

function defaultLoop(): ChunkerLoop {
  return wasmAvailable ? 'wasm' : 'js';
}

export class Chunker {
  readonly #scanner: ChunkScanner;
  readonly #pool = new SizeClassPool(FIRST_CHUNK_BUFFER_BYTES, MAX_CHUNK_BYTES, IDLE_CHUNK_BUFFER_BYTES);
  /** The chunk being assembled, its length, and how much of it has been fingerprinted. */
  #cur: Buffer | undefined;
  #len = 0;
  #scanned = 0;

  /** `loop` picks the per-byte loop's implementation; tests compare the two. */
  constructor(polynomial: bigint, loop: ChunkerLoop = defaultLoop()) {
    const t = tablesFor(polynomial);
    this.#scanner = loop === 'wasm' ? wasmScanner(t) : jsScanner(t);
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
   * Looks for a cut in what has arrived of the current chunk; returns its position or -1.
   * Like restic: no cut before the minimum size (the first digest looked at is the one after
   * byte MIN-1, the fingerprint of bytes MIN-64..MIN-1: restic's reset value has left the
   * window by then), a cut where the digest's low 20 bits are zero, or at the maximum size.
   */
  #scan(): number {
    const len = this.#len;
    const from = Math.max(this.#scanned, MIN_CHUNK_BYTES - 1);
    const end = Math.min(len, MAX_CHUNK_BYTES);
    const cut = from < end ? this.#scanner.scan(this.#cur!, from, end) : -1;
    if (cut >= 0) return cut;
    this.#scanned = Math.max(this.#scanned, end);
    return end === MAX_CHUNK_BYTES ? MAX_CHUNK_BYTES : -1;
  }
}
