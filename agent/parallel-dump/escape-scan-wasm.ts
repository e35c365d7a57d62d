// Whether a value holds a byte that mysql_real_escape_string escapes (NUL, \n, \r, ", ', \,
// ^Z), tested 16 bytes at a time with WebAssembly SIMD: the row renderer's (row-render.ts)
// test for the values long enough to be worth one. It tested them with a regular expression
// over the value read as a latin1 string: a string the size of the value for each one, the
// largest allocation of the dump's rendering (a ~1 KiB row of the benchmark's table made ~1 KiB
// of them, half of what the agent allocated in V8's young generation, so half its scavenges).
// Here the value is copied into the module's memory (a memcpy) and scanned there, allocating
// nothing. Measured (escapeInto over 256k values of 900 bytes without escapes, one core of a
// shared machine): see the commit that introduced it.
//
// The module is assembled below from its instructions, as chunker-wasm.ts is: no binary to
// trust, no build step. Memory: one window of WINDOW_BYTES at address 0 (2 pages).
// scan(n): 1 if any of the n >= 16 bytes at 0.. is one of the seven, else 0; the last block is
// read from n - 16 (overlapping the one before), so no byte past n is read.
import { i32Const, leb, section } from '../../common/wasm-encoding.ts';

export const WINDOW_BYTES = 64 * 1024;
/** The shortest value scan() takes (one block). */
export const MIN_SCAN_BYTES = 16;
const SPECIAL = [0x00, 0x0a, 0x0d, 0x22, 0x27, 0x5c, 0x1a];

const SIMD = 0xfd;
const V128 = 0x7b, I32 = 0x7f;
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, EMPTY = 0x40;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21;
const I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_SUB = 0x6b;
// SIMD opcodes (after the 0xfd prefix; all below 0x80, so one LEB byte each).
const V128_LOAD = 0x00, V128_CONST = 0x0c, I8X16_SPLAT = 0x0f, I8X16_EQ = 0x23, V128_OR = 0x50, V128_ANY_TRUE = 0x53;

const i32 = i32Const;

// Locals: param $n = 0; $p = 1 (i32), $last = 2 (i32); $acc = 3 (v128); the seven splats 4..10 (v128).
const N = 0, P = 1, LAST = 2, ACC = 3;
const splat = (k: number): number => 4 + k;

/** $acc |= (block at $addr == any of the seven), lane-wise; `addr` pushes the address. */
const absorb = (addr: number[]): number[] => [
  LOCAL_GET, ACC,
  ...addr, SIMD, V128_LOAD, 0x00, 0x00, LOCAL_GET, splat(0), SIMD, I8X16_EQ,
  ...SPECIAL.slice(1).flatMap((_, k) => [...addr, SIMD, V128_LOAD, 0x00, 0x00, LOCAL_GET, splat(k + 1), SIMD, I8X16_EQ, SIMD, V128_OR]),
  SIMD, V128_OR, LOCAL_SET, ACC,
];

// prettier-ignore
const SCAN_BODY = [
  0x02, 0x02, I32, 0x01 + SPECIAL.length, V128, //                 locals: $p $last (i32); $acc and the splats (v128)
  ...SPECIAL.flatMap((c, k) => [...i32(c), SIMD, I8X16_SPLAT, LOCAL_SET, splat(k)]),
  SIMD, V128_CONST, ...new Array(16).fill(0), LOCAL_SET, ACC,
  LOCAL_GET, N, ...i32(16), I32_SUB, LOCAL_SET, LAST, //           $last = n - 16: the last block's address
  BLOCK, EMPTY,
  LOOP, EMPTY, //                                                  while $p < $last: absorb the block at $p
  LOCAL_GET, P, LOCAL_GET, LAST, I32_GE_U, BR_IF, 1,
  ...absorb([LOCAL_GET, P]),
  LOCAL_GET, P, ...i32(16), I32_ADD, LOCAL_SET, P,
  BR, 0, //                                                        on with the loop
  END,
  END,
  ...absorb([LOCAL_GET, LAST]),
  LOCAL_GET, ACC, SIMD, V128_ANY_TRUE,
  END,
];

// prettier-ignore
export const ESCAPE_SCAN_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, //               "\0asm", version 1
  ...section(1, [0x01, 0x60, 0x01, I32, 0x01, I32]), //           types: (i32) -> i32
  ...section(3, [0x01, 0x00]), //                                   functions: one, of type 0
  ...section(5, [0x01, 0x00, 0x02]), //                             memory: min 2 pages
  ...section(7, [
    0x02,
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, //        "memory": memory 0
    0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00, //                    "scan": function 0
  ]),
  ...section(10, [0x01, ...leb(SCAN_BODY.length), ...SCAN_BODY]),
]);

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; scan: (n: number) => number } };
}

/**
 * A test for values of at least MIN_SCAN_BYTES: true when one holds a byte to escape. Undefined
 * where the runtime has no WebAssembly SIMD (node --jitless, an old engine): the caller keeps its
 * own test.
 */
export function escapeScanner(): ((v: Uint8Array) => boolean) | undefined {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!wasm) return undefined;
  let exports: { memory: { buffer: ArrayBuffer }; scan: (n: number) => number };
  try {
    exports = new wasm.Instance(new wasm.Module(ESCAPE_SCAN_WASM)).exports;
  } catch {
    return undefined;
  }
  const { scan } = exports;
  const bytes = new Uint8Array(exports.memory.buffer, 0, WINDOW_BYTES);
  return (v) => {
    const n = v.length;
    if (n < MIN_SCAN_BYTES) throw new RangeError(`escapeScanner: values of ${MIN_SCAN_BYTES} bytes or more (${n})`);
    if (n <= WINDOW_BYTES) {
      bytes.set(v, 0);
      return scan(n) !== 0;
    }
    // Windows of WINDOW_BYTES; the last one starts early enough to hold a whole block.
    for (let off = 0; off < n; off += WINDOW_BYTES) {
      const start = Math.min(off, n - MIN_SCAN_BYTES);
      const end = Math.min(off + WINDOW_BYTES, n);
      bytes.set(v.subarray(start, end), 0);
      if (scan(end - start) !== 0) return true;
    }
    return false;
  };
}
