// The chunker's per-byte loop in WebAssembly, 16 lanes at once.
//
// restic's digest at a position 64 or more bytes after a cut is the Rabin fingerprint of the
// 64 bytes before it, whatever came earlier (the window's reset value has left it), and restic
// looks at no digest closer to a cut than its minimum size. So a stretch can be split into
// 16 lanes, each started afresh from the 64 bytes before it, and rolled together: the 16
// digests are independent, so the CPU overlaps their table loads instead of waiting for each
// (one lane is one long chain of shift, load and xor per byte). The first digest with its low
// 20 bits zero, in the first lane that has one, is the cut; the bytes rolled past it are the
// price (a stretch is at most 64 KiB; a cut comes about once per MiB). Measured on the
// benchmark's dump (bench/components.bench.ts, shared 2-core machine, so +-20%): 4 lanes 1.6x
// the previous one-lane JavaScript chunker, 8 lanes ~2x, 16 lanes 2.2-2.7x; one WebAssembly
// lane alone 1.1x (the chain, not the language, was the limit).
//
// The module is assembled below from commented instructions, so Node and Deno run it as it
// is, with no build step and no tool to trust; the tests compare its cut points with the
// JavaScript loop's (chunker-scan-js.ts) and restic's.
//
// Memory (2 pages, 128 KiB, its own per scanner):
//   0..2047      OUT table: 256 i64, restic's tabout (a byte leaving the 64-byte window)
//   2048..4095   MOD table: 256 i64, restic's tabmod (reducing by the digest's top byte)
//   4096..       scratch: lane k at 4096 + k*SPAN, the 64 bytes before its positions, then them
//
// scan(q, end): lane k's bytes are at b = q + k*SPAN: its digest starts as the fingerprint of
// the 64 bytes at b.., then for each j in 0..end-q the byte at b+j leaves the window and the
// byte at b+j+64 enters. Returns a+1 for the first such entering address a (in lane order)
// whose digest has its low 20 bits zero, or 0.
import { i32Const, leb, section, sleb } from '../wasm-encoding.ts';

const TABLES_BYTES = 4096;
const SCRATCH_ADDRESS = TABLES_BYTES;
const MEMORY_PAGES = 2;
const MEMORY_BYTES = MEMORY_PAGES * 65536;
const WINDOW_SIZE = 64;
export const LANES = 16;
/** The most positions one call looks at: the 16 x 64 bytes of warm-up are 1.6% of it, and it rolls little past a cut. */
export const STRETCH_BYTES = 64 * 1024;
/** Lane k's bytes (the 64 before it, then its own) start at SCRATCH_ADDRESS + k*SPAN. */
const SPAN = STRETCH_BYTES / LANES + WINDOW_SIZE;

// Opcodes (WebAssembly core spec, section 5.4).
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, END = 0x0b, BR_IF = 0x0d, EMPTY = 0x40, SELECT = 0x1b;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22;
const I64_LOAD = 0x29, I32_LOAD8_U = 0x2d, I64_LOAD8_U = 0x31;
const I64_CONST = 0x42;
const I32_EQZ = 0x45, I32_LT_U = 0x49;
const I32_ADD = 0x6a, I32_AND = 0x71, I32_SHL = 0x74;
const I64_LT_S = 0x53, I64_SUB = 0x7d, I64_AND = 0x83, I64_OR = 0x84, I64_XOR = 0x85, I64_SHL = 0x86, I64_SHR_U = 0x88, I32_WRAP_I64 = 0xa7;
const I64 = 0x7e, I32 = 0x7f;

const i32 = i32Const;
/** A memory access: alignment (log2) and a constant offset. */
const memarg = (align: number, offset: number): number[] => [align, ...leb(offset)];

// Locals: params $q = 0 (the address lane 0 starts at; it runs on), $end = 1 (where lane 0
// ends); $s = 2 (the start); lane k's digest $d = 3+k (i64) and its first cut $f (0: none yet).
// Lane k reads at $q + k*SPAN: constant offsets, so the loop holds just $q and the digests.
const Q = 0, END_ADDRESS = 1, S = 2;
const d = (k: number): number => 3 + k;
const f = (k: number): number => 3 + LANES + k;
const LANE_NUMBERS = Array.from({ length: LANES }, (_, k) => k);
const lanes = <T>(each: (k: number) => T[]): T[] => LANE_NUMBERS.flatMap(each);

/** $d = ($d << 8 | byte at $q+offset) ^ MOD[top byte of $d]: one byte enters (restic's updateDigest). */
const enter = (k: number, offset: number): number[] => [
  LOCAL_GET, d(k), I64_CONST, 42, I64_SHR_U, I32_WRAP_I64, ...i32(0x7f8), I32_AND, // 8 * ($d >> 45): the top byte
  I64_LOAD, ...memarg(3, 2048), //                                                  MOD[top byte]
  LOCAL_GET, d(k), I64_CONST, 8, I64_SHL,
  LOCAL_GET, Q, I64_LOAD8_U, ...memarg(0, offset), I64_OR,
  I64_XOR, LOCAL_SET, d(k),
];

/** $d ^= OUT[byte at $q+offset]: one byte leaves the window (restic's slide). */
const leave = (k: number, offset: number): number[] => [
  LOCAL_GET, d(k),
  LOCAL_GET, Q, I32_LOAD8_U, ...memarg(0, offset), ...i32(3), I32_SHL,
  I64_LOAD, ...memarg(3, 0), // OUT[out]
  I64_XOR, LOCAL_SET, d(k),
];

/** Whether lane k's digest has its low 20 bits (the split mask) zero. */
const matches = (k: number): number[] => [LOCAL_GET, d(k), I32_WRAP_I64, ...i32(0xfffff), I32_AND, I32_EQZ];

/** (lane k's digest & split mask) - 1: negative exactly when the lane matches (i64; ORed over the lanes). */
const belowIfMatch = (k: number): number[] => [LOCAL_GET, d(k), I64_CONST, ...sleb(0xfffff), I64_AND, I64_CONST, 1, I64_SUB];

/** If lane k's digest matches and the lane has no cut yet: $f = the entering byte's address + 1 (rare: about once per MiB). */
const mark = (k: number): number[] => [
  ...matches(k), LOCAL_GET, f(k), I32_EQZ, I32_AND,
  IF, EMPTY,
  LOCAL_GET, Q, ...i32(k * SPAN + WINDOW_SIZE + 1), I32_ADD, LOCAL_SET, f(k),
  END,
];

/** $q += 1; loop on while $q < limit (`limit`: the instructions that push it). */
const next = (limit: number[]): number[] => [LOCAL_GET, Q, ...i32(1), I32_ADD, LOCAL_TEE, Q, ...limit, I32_LT_U, BR_IF, 0];

// prettier-ignore
const SCAN_BODY = [
  0x03, 0x01, I32, LANES, I64, LANES, I32, //      locals: $s, the digests, the cuts
  LOCAL_GET, Q, LOCAL_SET, S,
  LOOP, EMPTY, //                                  warm-up: the 64 bytes before each lane, from digest 0
  ...lanes((k) => enter(k, k * SPAN)),
  ...next([LOCAL_GET, S, ...i32(WINDOW_SIZE), I32_ADD]),
  END,
  LOCAL_GET, S, LOCAL_SET, Q,
  BLOCK, EMPTY,
  LOOP, EMPTY, //                                  every lane one byte on
  ...lanes((k) => [...leave(k, k * SPAN), ...enter(k, k * SPAN + WINDOW_SIZE)]),
  ...belowIfMatch(0), ...LANE_NUMBERS.slice(1).flatMap((k) => [...belowIfMatch(k), I64_OR]),
  I64_CONST, 0, I64_LT_S,
  IF, EMPTY, //                                    some lane matches: note each lane's first
  ...lanes(mark),
  LOCAL_GET, f(0), BR_IF, 2, //                    lane 0 has cut: the later lanes cannot come first
  END,
  ...next([LOCAL_GET, END_ADDRESS]),
  END,
  END,
  // The first lane's cut that there is ($f0 || $f1 || ...; 0 if none).
  ...lanes((k) => [LOCAL_GET, f(k)]), //           every lane's $f, then from the last but one down:
  ...LANE_NUMBERS.slice(0, -1).reverse().flatMap((k) => [LOCAL_GET, f(k), I32_EQZ, I32_EQZ, SELECT]), // $f(k) ? $f(k) : that
  END,
];

// prettier-ignore
export const CHUNKER_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                 // "\0asm", version 1
  ...section(1, [0x01, 0x60, 0x02, I32, I32, 0x01, I32]),         // types: (i32, i32) -> i32
  ...section(3, [0x01, 0x00]),                                    // functions: one, of type 0
  ...section(5, [0x01, 0x00, MEMORY_PAGES]),                      // memory: min 2 pages, no max
  ...section(7, [
    0x02,                                                         // exports: two
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,         // "memory": memory 0
    0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00,                     // "scan": function 0
  ]),
  ...section(10, [0x01, ...leb(SCAN_BODY.length), ...SCAN_BODY]), // code: one body
]);

/** The little of the WebAssembly API this uses (the project's TypeScript libraries leave it out). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; scan: (p: number, laneBytes: number) => number } };
}
const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
/** False under node --jitless, where WebAssembly is off. */
export const wasmAvailable = webAssembly !== undefined;

let compiled: object | undefined;

/** Finds restic's cut points; stateless: the digest at a position is a function of the 64 bytes before it. */
export interface ChunkScanner {
  /**
   * The position after the first i in [from, to) where the fingerprint of buf[i-63..i] has
   * its low 20 bits zero, or -1 (from >= 64: it reads the 64 bytes before `from`).
   */
  scan(buf: Uint8Array, from: number, to: number): number;
}

/**
 * A scanner for the tables `t` (restic's tabout and tabmod as [high, low] halves: out at 2*b,
 * mod at 512 + 2*b). Each instance has its own memory.
 */
export function wasmScanner(t: Int32Array): ChunkScanner {
  if (!webAssembly) throw new Error('WebAssembly is not available');
  compiled ??= new webAssembly.Module(CHUNKER_WASM);
  const { memory, scan: scanLanes } = new webAssembly.Instance(compiled).exports;
  const words = new Int32Array(memory.buffer, 0, TABLES_BYTES / 4);
  for (let i = 0; i < t.length; i += 2) {
    words[i] = t[i + 1]!;
    words[i + 1] = t[i]!;
  }
  const bytes = new Uint8Array(memory.buffer);
  if (SCRATCH_ADDRESS + LANES * SPAN > MEMORY_BYTES) throw new RangeError('scratch too small');
  return {
    scan(buf: Uint8Array, from: number, to: number): number {
      // Positions pos..pos+n-1 in lanes of L; lane k's scratch holds buf[pos+k*L-64 .. pos+k*L+L).
      for (let pos = from; pos < to; ) {
        const n = Math.min(to - pos, STRETCH_BYTES);
        const laneBytes = Math.ceil(n / LANES);
        for (let k = 0; k < LANES; k++) {
          const start = pos + k * laneBytes;
          bytes.set(buf.subarray(start - WINDOW_SIZE, Math.min(start + laneBytes, to)), SCRATCH_ADDRESS + k * SPAN);
        }
        // The lanes cover LANES * L >= n positions; a cut in the last lane's spare ones is no cut
        // (the lanes come in stream order, so nothing before n matched).
        const after = scanLanes(SCRATCH_ADDRESS, SCRATCH_ADDRESS + laneBytes);
        if (after > 0) {
          const offset = after - 1 - SCRATCH_ADDRESS;
          const lane = Math.floor(offset / SPAN);
          const at = lane * laneBytes + offset - lane * SPAN - WINDOW_SIZE;
          if (at < n) return pos + at + 1;
        }
        pos += n;
      }
      return -1;
    },
  };
}
