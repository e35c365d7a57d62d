// Content-defined chunking, bit-compatible with restic's Rabin chunker (restic/chunker):
// a 64-byte sliding window, fingerprints modulo the repository's polynomial, a cut where
// the low 20 bits are zero, chunks between 512 KiB and 8 MiB (1 MiB on average). With the
// same polynomial it cuts a stream exactly where `restic backup --stdin` does, so our
// snapshots and restic's deduplicate against each other.
//
// The 53-bit digest is kept as two 32-bit halves (hi: bits 32..60, lo: bits 0..31) so the
// per-byte loop stays in V8's small-integer arithmetic.
import { POLYNOMIAL_DEGREE, degree, polMod } from './polynomial.ts';

export const MIN_CHUNK_BYTES = 512 * 1024;
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const WINDOW_SIZE = 64;
const SPLIT_MASK = (1 << 20) - 1;
/** Where the digest's top byte (bits 45..52) starts in its high half. */
const HI_SHIFT = POLYNOMIAL_DEGREE - 8 - 32;

interface Tables {
  outHi: Int32Array;
  outLo: Int32Array;
  modHi: Int32Array;
  modLo: Int32Array;
}

const tableCache = new Map<bigint, Tables>();

function appendByte(hash: bigint, b: number, pol: bigint): bigint {
  return polMod((hash << 8n) | BigInt(b), pol);
}

function tablesFor(pol: bigint): Tables {
  const cached = tableCache.get(pol);
  if (cached) return cached;
  const k = degree(pol);
  if (k !== POLYNOMIAL_DEGREE) throw new RangeError(`chunker polynomial must have degree ${POLYNOMIAL_DEGREE}`);
  const t: Tables = {
    outHi: new Int32Array(256),
    outLo: new Int32Array(256),
    modHi: new Int32Array(256),
    modLo: new Int32Array(256),
  };
  for (let b = 0; b < 256; b++) {
    let h = appendByte(0n, b, pol);
    for (let i = 0; i < WINDOW_SIZE - 1; i++) h = appendByte(h, 0, pol);
    t.outHi[b] = Number(h >> 32n);
    t.outLo[b] = Number(BigInt.asIntN(32, h));
    const m = polMod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k));
    t.modHi[b] = Number(m >> 32n);
    t.modLo[b] = Number(BigInt.asIntN(32, m));
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
  const { outHi, outLo, modHi, modLo } = t;
  let hi = digest[0]!;
  let lo = digest[1]!;
  let cut = -1;
  for (let i = from; i < to; i++) {
    const out = buf[i - WINDOW_SIZE]!;
    hi ^= outHi[out]!;
    lo ^= outLo[out]!;
    const index = (hi >>> HI_SHIFT) & 0xff;
    hi = ((hi << 8) | (lo >>> 24)) ^ modHi[index]!;
    lo = ((lo << 8) | buf[i]!) ^ modLo[index]!;
    if ((lo & SPLIT_MASK) === 0) {
      cut = i + 1;
      break;
    }
  }
  digest[0] = hi;
  digest[1] = lo;
  return cut;
}

export class Chunker {
  readonly #t: Tables;
  readonly #window = new Uint8Array(WINDOW_SIZE);
  readonly #digest = new Int32Array(2);
  #wpos = 0;
  #hi = 0;
  #lo = 0;
  #count = 0;
  #pre = 0;
  #parts: Buffer[] = [];

  constructor(polynomial: bigint) {
    this.#t = tablesFor(polynomial);
    this.#reset();
  }

  #reset(): void {
    this.#window.fill(0);
    // restic slides a single 1 byte into the empty window: digest 1, position 1.
    this.#window[0] = 1;
    this.#wpos = 1;
    this.#hi = 0;
    this.#lo = 1;
    this.#count = 0;
    this.#pre = MIN_CHUNK_BYTES - WINDOW_SIZE;
    this.#parts = [];
  }

  #emit(): Buffer {
    const parts = this.#parts;
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#reset();
    return chunk;
  }

  /** Feeds bytes; returns the chunks completed by them (often none). */
  push(buf: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    const len = buf.length;
    let pos = 0;
    let partStart = 0;
    const { outHi, outLo, modHi, modLo } = this.#t;
    const win = this.#window;
    while (pos < len) {
      if (this.#pre > 0) {
        const n = Math.min(this.#pre, len - pos);
        this.#pre -= n;
        this.#count += n;
        pos += n;
        continue;
      }
      let hi = this.#hi;
      let lo = this.#lo;
      let wpos = this.#wpos;
      let count = this.#count;
      let cut = -1;
      // The first 64 bytes of this run slide out of the saved window; after that, the byte
      // leaving the window is simply the one 64 positions back in this buffer.
      const windowEnd = Math.min(len, pos + WINDOW_SIZE);
      let i = pos;
      for (; i < windowEnd; i++) {
        const b = buf[i]!;
        const out = win[wpos]!;
        win[wpos] = b;
        wpos = (wpos + 1) & (WINDOW_SIZE - 1);
        hi ^= outHi[out]!;
        lo ^= outLo[out]!;
        const index = (hi >>> HI_SHIFT) & 0xff;
        hi = ((hi << 8) | (lo >>> 24)) ^ modHi[index]!;
        lo = ((lo << 8) | b) ^ modLo[index]!;
        count++;
        if (count >= MIN_CHUNK_BYTES && ((lo & SPLIT_MASK) === 0 || count >= MAX_CHUNK_BYTES)) {
          cut = i + 1;
          break;
        }
      }
      if (cut < 0 && i < len) {
        // Steady state: 64 bytes have passed since the minimum-size skip, so the chunk is at
        // least MIN_CHUNK_BYTES long; only the split mask and the maximum size remain to test,
        // and the maximum is folded into the loop bound.
        const start = i;
        const end = Math.min(len, i + (MAX_CHUNK_BYTES - count));
        const digest = this.#digest;
        digest[0] = hi;
        digest[1] = lo;
        cut = scan(buf, i, end, this.#t, digest);
        hi = digest[0]!;
        lo = digest[1]!;
        i = cut < 0 ? end : cut;
        count += i - start;
        if (cut < 0 && count >= MAX_CHUNK_BYTES) cut = i;
        if (cut < 0) {
          // Keep the last 64 bytes as the window, oldest first.
          win.set(buf.subarray(len - WINDOW_SIZE, len), 0);
          wpos = 0;
        }
      }
      if (cut < 0) {
        this.#hi = hi;
        this.#lo = lo;
        this.#wpos = wpos;
        this.#count = count;
        pos = len;
        break;
      }
      this.#parts.push(buf.subarray(partStart, cut));
      chunks.push(this.#emit());
      partStart = cut;
      pos = cut;
    }
    if (partStart < len) this.#parts.push(buf.subarray(partStart));
    return chunks;
  }

  /** The last, possibly short, chunk; undefined when the stream ended on a cut. */
  finish(): Buffer | undefined {
    if (this.#count === 0 && this.#parts.length === 0) return undefined;
    const total = this.#parts.reduce((n, p) => n + p.length, 0);
    if (total === 0) return undefined;
    return this.#emit();
  }
}
