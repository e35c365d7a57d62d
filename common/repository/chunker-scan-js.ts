// The chunker's per-byte loop in plain JavaScript, one lane: the fallback where WebAssembly is
// switched off (node --jitless), and a second implementation the tests hold chunker-wasm.ts
// against. The 53-bit digest is kept as two 32-bit halves (hi: bits 32..60, lo: bits 0..31)
// so the loop stays in V8's small-integer arithmetic.
import type { ChunkScanner } from './chunker-wasm.ts';
import { POLYNOMIAL_DEGREE } from './polynomial.ts';

const WINDOW_SIZE = 64;
const SPLIT_MASK = (1 << 20) - 1;
/** Where the digest's top byte (bits 45..52) starts in its high half. */
const HI_SHIFT = POLYNOMIAL_DEGREE - 8 - 32;
/** Where the mod table starts in the tables (the out table is at 0). */
const MOD = 512;

/**
 * Rolls the digest over buf[from..to) with the window being the 64 bytes before each
 * position; returns the position after the first split point, or -1. `digest` holds the
 * [lo, hi] halves in and out. A function of its own so V8 optimizes this one loop alone.
 */
function scan(buf: Uint8Array, from: number, to: number, t: Int32Array, digest: Int32Array): number {
  let lo = digest[0]!;
  let hi = digest[1]!;
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
  digest[0] = lo;
  digest[1] = hi;
  return cut;
}

/** The fingerprint of buf[from-64..from-1] into `digest` ([lo, hi]): restic's digest before `from`. */
function warmUp(buf: Uint8Array, from: number, t: Int32Array, digest: Int32Array): void {
  let lo = 0;
  let hi = 0;
  for (let i = from - WINDOW_SIZE; i < from; i++) {
    const index = MOD | ((hi >>> (HI_SHIFT - 1)) & 0x1fe);
    hi = ((hi << 8) | (lo >>> 24)) ^ t[index]!;
    lo = ((lo << 8) | buf[i]!) ^ t[index | 1]!;
  }
  digest[0] = lo;
  digest[1] = hi;
}

/** A scanner for the tables `t` ([high, low] halves: out at 2*b, mod at 512 + 2*b). */
export function jsScanner(t: Int32Array): ChunkScanner {
  const digest = new Int32Array(2);
  return {
    scan(buf, from, to) {
      warmUp(buf, from, t, digest);
      return scan(buf, from, to, t, digest);
    },
  };
}
