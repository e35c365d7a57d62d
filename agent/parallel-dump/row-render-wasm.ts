// A row as the server sent it (a text-protocol row packet's payload: each value a length-encoded
// string, 0xfb for NULL) rendered as the dump's "(v1,v2,...)" in WebAssembly memory, with the
// same output as row-render.ts's renderRow of the same values: the parallel dumper's hot path.
// renderRow takes one Buffer per value, which mysql2 cuts out of the packet for each (a
// FastBuffer each, then the row's array, then a 'result' event); the values were then copied
// into the module's memory for the escape test, out again into a row buffer, and once more into
// the piece. Here the payload is copied into the module's memory once, the values are escaped
// there 16 bytes at a time (SIMD: a block without a byte to escape is stored as it is), and the
// row is copied out once. Measured: see the commit that introduced it.
//
// The module is assembled below from its instructions, as escape-scan-wasm.ts is. Memory (4
// pages): the escape table (mysql_real_escape_string's: the byte after the backslash, 0 for
// none) at 0, the payload at IN, the rendering at OUT.
//   escape(src, n, dst) -> dst': copies the n bytes at src to dst with the escapes; returns the end.
//   tail(src, lim, dst) -> dst': the same one byte at a time, for src..lim (escape's helper).
import { i32Const, leb, section } from '../../common/wasm-encoding.ts';
import type { ColumnKind } from './row-render.ts';

const TABLE = 0;
export const IN = 1024;
/** The largest payload rendered here (larger rows take renderRow's way). */
export const IN_BYTES = 64 * 1024;
const OUT = IN + IN_BYTES;
const MEMORY_PAGES = 4;
const OUT_BYTES = MEMORY_PAGES * 65536 - OUT;
const SPECIAL: [number, number][] = [[0x00, 0x30], [0x0a, 0x6e], [0x0d, 0x72], [0x5c, 0x5c], [0x27, 0x27], [0x22, 0x22], [0x1a, 0x5a]];

const SIMD = 0xfd;
const V128 = 0x7b, I32 = 0x7f;
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, CALL = 0x10, EMPTY = 0x40;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22;
const I32_LOAD8_U = 0x2d, I32_STORE8 = 0x3a;
const I32_EQZ = 0x45, I32_GT_U = 0x4b, I32_GE_U = 0x4f, I32_ADD = 0x6a;
const V128_LOAD = 0x00, V128_STORE = 0x0b, I8X16_SPLAT = 0x0f, I8X16_EQ = 0x23, V128_OR = 0x50, V128_ANY_TRUE = 0x53;
const i32 = i32Const;
const add = (local: number, n: number): number[] => [LOCAL_GET, local, ...i32(n), I32_ADD, LOCAL_SET, local];

// tail: params src 0, lim 1, dst 2; locals b 3, e 4.
// prettier-ignore
const TAIL_BODY = [
  0x01, 0x02, I32, //                                              locals: $b $e
  BLOCK, EMPTY, LOOP, EMPTY,
  LOCAL_GET, 0, LOCAL_GET, 1, I32_GE_U, BR_IF, 1, //                src >= lim: done
  LOCAL_GET, 0, I32_LOAD8_U, 0x00, 0x00, LOCAL_SET, 3, //          $b = mem[src]
  LOCAL_GET, 3, I32_LOAD8_U, 0x00, ...leb(TABLE), LOCAL_TEE, 4, //  $e = table[$b]
  I32_EQZ,
  IF, EMPTY,
  LOCAL_GET, 2, LOCAL_GET, 3, I32_STORE8, 0x00, 0x00, //            mem[dst] = $b
  ...add(2, 1),
  ELSE,
  LOCAL_GET, 2, ...i32(0x5c), I32_STORE8, 0x00, 0x00, //           mem[dst] = '\\'
  LOCAL_GET, 2, LOCAL_GET, 4, I32_STORE8, 0x00, 0x01, //            mem[dst + 1] = $e
  ...add(2, 2),
  END,
  ...add(0, 1),
  BR, 0,
  END, END,
  LOCAL_GET, 2,
  END,
];

// escape: params src 0, n 1, dst 2; locals end 3 (i32), v 4, then the seven splats 5..11 (v128).
const V = 4;
const splat = (k: number): number => 5 + k;
// prettier-ignore
const ESCAPE_BODY = [
  0x02, 0x01, I32, 0x01 + SPECIAL.length, V128,
  ...SPECIAL.flatMap(([c], k) => [...i32(c), SIMD, I8X16_SPLAT, LOCAL_SET, splat(k)]),
  LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, LOCAL_SET, 3, //             $end = src + n
  BLOCK, EMPTY, LOOP, EMPTY,
  LOCAL_GET, 0, ...i32(16), I32_ADD, LOCAL_GET, 3, I32_GT_U, BR_IF, 1, // less than a block left: to the tail
  LOCAL_GET, 0, SIMD, V128_LOAD, 0x00, 0x00, LOCAL_SET, V,
  LOCAL_GET, V, LOCAL_GET, splat(0), SIMD, I8X16_EQ,
  ...SPECIAL.slice(1).flatMap((_, k) => [LOCAL_GET, V, LOCAL_GET, splat(k + 1), SIMD, I8X16_EQ, SIMD, V128_OR]),
  SIMD, V128_ANY_TRUE,
  IF, EMPTY, //                                                    a byte to escape: this block one byte at a time
  LOCAL_GET, 0, LOCAL_GET, 0, ...i32(16), I32_ADD, LOCAL_GET, 2, CALL, 0, LOCAL_SET, 2,
  ELSE, //                                                         none: the block as it is
  LOCAL_GET, 2, LOCAL_GET, V, SIMD, V128_STORE, 0x00, 0x00,
  ...add(2, 16),
  END,
  ...add(0, 16),
  BR, 0,
  END, END,
  LOCAL_GET, 0, LOCAL_GET, 3, LOCAL_GET, 2, CALL, 0, //           the last bytes
  END,
];

// prettier-ignore
export const ROW_RENDER_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, //               "\0asm", version 1
  ...section(1, [0x01, 0x60, 0x03, I32, I32, I32, 0x01, I32]), //  types: (i32, i32, i32) -> i32
  ...section(3, [0x02, 0x00, 0x00]), //                             functions: tail, escape
  ...section(5, [0x01, 0x00, MEMORY_PAGES]), //                     memory
  ...section(7, [
    0x02,
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, //        "memory": memory 0
    0x06, 0x65, 0x73, 0x63, 0x61, 0x70, 0x65, 0x00, 0x01, //        "escape": function 1
  ]),
  ...section(10, [0x02, ...leb(TAIL_BODY.length), ...TAIL_BODY, ...leb(ESCAPE_BODY.length), ...ESCAPE_BODY]),
]);

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; escape: (src: number, n: number, dst: number) => number } };
}

export interface PacketRowRenderer {
  /** The module's escape alone: copies n bytes at src (in `memory`) to dst with the escapes (tests). */
  escape(src: number, n: number, dst: number): number;
  memory: Uint8Array;
  /**
   * Renders the row packet payload buf[start, end) of kinds.length values; returns the
   * rendering's length, in `out` from its start, or -1 when the row is too large for the
   * module's memory (the caller renders it another way).
   */
  render(buf: Uint8Array, start: number, end: number, kinds: readonly ColumnKind[]): number;
  /** The rendering of the last render(), at its start (valid until the next call). */
  out: Uint8Array;
}

const BINARY_INTRODUCER = new Uint8Array(Buffer.from("_binary'", 'latin1'));
/** BIT values as 0x and lowercase hex digits, as renderRow writes them. */
const HEX = new Uint8Array(Buffer.from('0123456789abcdef', 'latin1'));

/** The renderer, or undefined where the runtime has no WebAssembly SIMD (renderRow is then used). */
export function packetRowRenderer(): PacketRowRenderer | undefined {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!wasm) return undefined;
  let exports: { memory: { buffer: ArrayBuffer }; escape: (src: number, n: number, dst: number) => number };
  try {
    exports = new wasm.Instance(new wasm.Module(ROW_RENDER_WASM)).exports;
  } catch {
    return undefined;
  }
  const { escape } = exports;
  const m = new Uint8Array(exports.memory.buffer);
  for (const [c, e] of SPECIAL) m[TABLE + c] = e;
  const out = m.subarray(OUT);
  return {
    escape,
    memory: m,
    out,
    render(buf, start, end, kinds) {
      const payload = end - start;
      const columns = kinds.length;
      if (payload > IN_BYTES || 2 + 11 * columns + 2 * payload > OUT_BYTES) return -1;
      m.set(start === 0 && end === buf.length ? buf : buf.subarray(start, end), IN);
      const inEnd = IN + payload;
      let p = IN;
      let d = OUT;
      m[d++] = 0x28;
      for (let c = 0; c < columns; c++) {
        if (c > 0) m[d++] = 0x2c;
        if (p >= inEnd) throw new Error(`a row packet holds fewer values than its ${columns} columns`);
        const b = m[p]!;
        let n: number;
        if (b < 0xfb) {
          n = b;
          p += 1;
        } else if (b === 0xfb) {
          m[d] = 0x4e;
          m[d + 1] = 0x55;
          m[d + 2] = 0x4c;
          m[d + 3] = 0x4c;
          d += 4;
          p += 1;
          continue;
        } else if (b === 0xfc) {
          n = m[p + 1]! | (m[p + 2]! << 8);
          p += 3;
        } else if (b === 0xfd) {
          n = m[p + 1]! | (m[p + 2]! << 8) | (m[p + 3]! << 16);
          p += 4;
        } else if (b === 0xfe) {
          // Eight bytes; within a payload of IN_BYTES only the low ones can be set.
          n = (m[p + 1]! | (m[p + 2]! << 8) | (m[p + 3]! << 16)) + m[p + 4]! * 0x1000000 + (m[p + 5]! | m[p + 6]! | m[p + 7]! | m[p + 8]!) * 2 ** 32;
          p += 9;
        } else {
          throw new Error('a row packet holds a value of no valid length (0xff)');
        }
        if (p + n > inEnd) throw new Error('a row packet ends inside a value');
        switch (kinds[c]) {
          case 'number':
            // The server's digits; escape() copies them as they are (none is a byte to escape).
            d = escape(p, n, d);
            break;
          case 'string':
            m[d++] = 0x27;
            d = escape(p, n, d);
            m[d++] = 0x27;
            break;
          case 'binary':
            m.set(BINARY_INTRODUCER, d);
            d += BINARY_INTRODUCER.length;
            d = escape(p, n, d);
            m[d++] = 0x27;
            break;
          default:
            m[d++] = 0x30;
            m[d++] = 0x78;
            for (let i = p; i < p + n; i++) {
              const v = m[i]!;
              m[d++] = HEX[v >> 4]!;
              m[d++] = HEX[v & 15]!;
            }
        }
        p += n;
      }
      if (p !== inEnd) throw new Error(`a row packet holds more values than its ${columns} columns`);
      m[d++] = 0x29;
      return d - OUT;
    },
  };
}

/** A row packet's payload as renderRow's values (views of buf; null for NULL): the way for rows too large for the module. */
export function decodeRowPacket(buf: Buffer, start: number, end: number, columns: number): (Buffer | null)[] {
  const row: (Buffer | null)[] = new Array(columns);
  let p = start;
  for (let c = 0; c < columns; c++) {
    if (p >= end) throw new Error(`a row packet holds fewer values than its ${columns} columns`);
    const b = buf[p]!;
    let n: number;
    if (b < 0xfb) [n, p] = [b, p + 1];
    else if (b === 0xfb) {
      row[c] = null;
      p += 1;
      continue;
    } else if (b === 0xfc) [n, p] = [buf.readUInt16LE(p + 1), p + 3];
    else if (b === 0xfd) [n, p] = [buf.readUIntLE(p + 1, 3), p + 4];
    else if (b === 0xfe) [n, p] = [Number(buf.readBigUInt64LE(p + 1)), p + 9];
    else throw new Error('a row packet holds a value of no valid length (0xff)');
    if (p + n > end) throw new Error('a row packet ends inside a value');
    row[c] = buf.subarray(p, p + n);
    p += n;
  }
  if (p !== end) throw new Error(`a row packet holds more values than its ${columns} columns`);
  return row;
}
