// The chunker's per-byte loop in WebAssembly: restic's Rabin digest as one i64, where the
// JavaScript loop (chunker-scan-js.ts) carries it in two 32-bit halves. Same cut points, about
// three times the speed (bench/components.bench.ts). The module is hand-assembled below, a
// few hundred bytes with every instruction commented, so Node and Deno run it as it is, with
// no build step and no tool to trust.
//
// Memory (3 pages, 192 KiB, its own per scanner):
//   0..2047      OUT table: 256 i64, restic's tabout (a byte leaving the 64-byte window)
//   2048..4095   MOD table: 256 i64, restic's tabmod (reducing by the digest's top byte)
//   4096..4103   the digest, an i64 (little-endian: low half first)
//   4160..       scratch: the 64 bytes before a stretch and the stretch itself
//
// scan(p, end): for each address p < end the byte at p leaves the window and the byte at p+64
// enters it; returns p+1 at the first digest whose low 20 bits are zero, or -1; the digest is
// read from and written back to memory.

const TABLES_BYTES = 4096;
export const DIGEST_ADDRESS = TABLES_BYTES;
const SCRATCH_ADDRESS = 4160;
const MEMORY_PAGES = 3;
const MEMORY_BYTES = MEMORY_PAGES * 65536;
const WINDOW_SIZE = 64;

/** A section: its id, the length of its contents (one LEB128 byte: all are < 128), the contents. */
function section(id: number, contents: number[]): number[] {
  if (contents.length >= 128) throw new RangeError('section too long for a one-byte length');
  return [id, contents.length, ...contents];
}

// prettier-ignore
const SCAN_BODY = [
  0x01, 0x01, 0x7e,       // locals: one i64, $d (local 2; params $p = 0, $end = 1)
  0x41, 0x80, 0x20,       // i32.const 4096                 (DIGEST_ADDRESS)
  0x29, 0x03, 0x00,       // i64.load align=8 offset=0
  0x21, 0x02,             // local.set $d
  0x02, 0x40,             // block $cut
  0x03, 0x40,             //  loop $next
  0x20, 0x02,             //   local.get $d
  0x20, 0x00,             //   local.get $p
  0x2d, 0x00, 0x00,       //   i32.load8_u                    the byte leaving the window
  0x41, 0x03,             //   i32.const 3
  0x74,                   //   i32.shl                        * 8
  0x29, 0x03, 0x00,       //   i64.load offset=0              OUT[out]
  0x85,                   //   i64.xor
  0x22, 0x02,             //   local.tee $d                   $d ^= OUT[out]
  0x42, 0x2a,             //   i64.const 42
  0x88,                   //   i64.shr_u
  0xa7,                   //   i32.wrap_i64
  0x41, 0xf8, 0x0f,       //   i32.const 0x7f8
  0x71,                   //   i32.and                        8 * ($d >> 45 & 0xff): the top byte
  0x29, 0x03, 0x80, 0x10, //   i64.load offset=2048           MOD[top byte]
  0x20, 0x02,             //   local.get $d
  0x42, 0x08,             //   i64.const 8
  0x86,                   //   i64.shl
  0x20, 0x00,             //   local.get $p
  0x31, 0x00, 0x40,       //   i64.load8_u offset=64          the byte entering the window
  0x84,                   //   i64.or
  0x85,                   //   i64.xor
  0x22, 0x02,             //   local.tee $d                   $d = ($d << 8 | in) ^ MOD[top byte]
  0xa7,                   //   i32.wrap_i64
  0x41, 0xff, 0xff, 0x3f, //   i32.const 0xfffff              the split mask (20 bits)
  0x71,                   //   i32.and
  0x45,                   //   i32.eqz
  0x0d, 0x01,             //   br_if $cut
  0x20, 0x00,             //   local.get $p
  0x41, 0x01,             //   i32.const 1
  0x6a,                   //   i32.add
  0x22, 0x00,             //   local.tee $p
  0x20, 0x01,             //   local.get $end
  0x49,                   //   i32.lt_u
  0x0d, 0x00,             //   br_if $next
  0x0b,                   //  end
  0x41, 0x80, 0x20,       //  i32.const 4096                no cut: store the digest
  0x20, 0x02,             //  local.get $d
  0x37, 0x03, 0x00,       //  i64.store
  0x41, 0x7f,             //  i32.const -1
  0x0f,                   //  return
  0x0b,                   // end
  0x41, 0x80, 0x20,       // i32.const 4096                 a cut: store the digest
  0x20, 0x02,             // local.get $d
  0x37, 0x03, 0x00,       // i64.store
  0x20, 0x00,             // local.get $p
  0x41, 0x01,             // i32.const 1
  0x6a,                   // i32.add                        return $p + 1
  0x0b,                   // end
];

// prettier-ignore
export const CHUNKER_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                 // "\0asm", version 1
  ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f]),      // types: (i32, i32) -> i32
  ...section(3, [0x01, 0x00]),                                    // functions: one, of type 0
  ...section(5, [0x01, 0x00, MEMORY_PAGES]),                      // memory: min 3 pages, no max
  ...section(7, [
    0x02,                                                         // exports: two
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,         // "memory": memory 0
    0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00,                     // "scan": function 0
  ]),
  ...section(10, [0x01, SCAN_BODY.length, ...SCAN_BODY]),         // code: one body
]);

/** The little of the WebAssembly API this uses (the project's TypeScript libraries leave it out). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; scan: (p: number, end: number) => number } };
}
const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
/** False under node --jitless, where WebAssembly is off. */
export const wasmAvailable = webAssembly !== undefined;

let compiled: object | undefined;

/** The scanner's digest as [low, high] 32-bit halves; the chunker's head loop reads and writes it. */
export interface ChunkScanner {
  readonly digest: Int32Array;
  /** Rolls the digest over buf[from..to) (from >= 64); the position after the first cut, or -1. */
  scan(buf: Uint8Array, from: number, to: number): number;
}

/**
 * A scanner for the tables `t` (restic's tabout and tabmod as [high, low] halves: out at 2*b,
 * mod at 512 + 2*b). Each instance has its own memory, so chunkers never share a digest.
 */
export function wasmScanner(t: Int32Array): ChunkScanner {
  if (!webAssembly) throw new Error('WebAssembly is not available');
  compiled ??= new webAssembly.Module(CHUNKER_WASM);
  const { memory, scan: scanAt } = new webAssembly.Instance(compiled).exports;
  const words = new Int32Array(memory.buffer, 0, TABLES_BYTES / 4);
  for (let i = 0; i < t.length; i += 2) {
    words[i] = t[i + 1]!;
    words[i + 1] = t[i]!;
  }
  const bytes = new Uint8Array(memory.buffer);
  const stretch = MEMORY_BYTES - SCRATCH_ADDRESS - WINDOW_SIZE;
  return {
    digest: new Int32Array(memory.buffer, DIGEST_ADDRESS, 2),
    scan(buf: Uint8Array, from: number, to: number): number {
      for (let pos = from; pos < to; ) {
        const n = Math.min(to - pos, stretch);
        bytes.set(buf.subarray(pos - WINDOW_SIZE, pos + n), SCRATCH_ADDRESS);
        const end = scanAt(SCRATCH_ADDRESS, SCRATCH_ADDRESS + n);
        if (end >= 0) return pos + (end - SCRATCH_ADDRESS);
        pos += n;
      }
      return -1;
    },
  };
}
